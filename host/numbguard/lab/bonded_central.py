"""The host's central on the virtual radio with the bonding a host OS does on its own.

BlueZ (or macOS, Windows) pairs with a peripheral that asks for an encrypted link and, once
bonded, re-encrypts every later connection from the stored key without asking the user again.
`BondingBumbleBleakClient` does the same on bumble: after connecting it encrypts with the
stored key of a bonded peer, else pairs (LE Secure Connections, Just Works) and keeps the bond
in the central's key store. Inject it with `bonding_backend(radio)`.
"""

from __future__ import annotations

from typing import Any

from bleak.exc import BleakError
from bumble.device import Connection
from bumble.pairing import PairingConfig

from numbguard.lab.bumble_backend import BumbleBleakClient, BumbleBleakScanner, VirtualRadio
from numbguard.transports.ble import BleakBackend


def central_pairing_config(_connection: Connection) -> PairingConfig:
    # Random identity address on both sides, or bumble 0.0.236 files the bond under the public
    # address and re-encryption finds no key.
    return PairingConfig(
        sc=True, mitm=False, bonding=True,
        identity_address_type=PairingConfig.AddressType.RANDOM,
    )  # fmt: skip


def bonding_backend(radio: VirtualRadio) -> BleakBackend:
    """bleak backend classes for `radio` whose client pairs once and re-encrypts after."""
    radio.central.pairing_config_factory = central_pairing_config
    return BleakBackend(
        scanner=BumbleBleakScanner,
        client=BondingBumbleBleakClient,
        kwargs={"bumble_radio": radio},
    )


class BondingBumbleBleakClient(BumbleBleakClient):
    """`BumbleBleakClient` that secures each connection: re-encrypts if bonded, else pairs."""

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        await super().connect(pair, **kwargs)
        connection = self._connection
        if connection is None or connection.is_encrypted:
            return
        keystore = self._radio.central.keystore
        bonded = keystore is not None and await keystore.get(str(connection.peer_address))
        try:
            if bonded:
                await connection.encrypt()
            else:
                await connection.pair()
        except Exception as error:
            await self.disconnect()
            step = "encryption with the stored bond" if bonded else "pairing"
            raise BleakError(f"{self.address}: {step} failed: {error!r}") from error
