"""Finding insoles on the air: every advertiser of the numbguard service, and what it claims."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from numbguard.errors import DeviceError
from numbguard.pads import Foot
from numbguard.protocol.constants import SERVICE_UUID
from numbguard.transports.ble import BleakBackend, parse_insole_name
from numbguard.transports.pairing import PairingRegistry


@dataclass(frozen=True)
class FoundInsole:
    address: str
    name: str
    foot: Foot | None  # None: the name is not NGL-xxxx / NGR-xxxx
    id_low16: int | None
    rssi_dbm: int
    paired: bool  # the registry remembers this address for that foot


async def scan_insoles(
    timeout_s: float = 5.0,
    *,
    backend: BleakBackend | None = None,
    registry: PairingRegistry | None = None,
) -> list[FoundInsole]:
    """Advertisers of the numbguard service heard within `timeout_s`, strongest first."""
    backend = backend or BleakBackend()
    heard: dict[str, tuple[BLEDevice, AdvertisementData]] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        heard[device.address] = (device, adv)

    scanner = BleakScanner(
        on_advertisement, service_uuids=[SERVICE_UUID], backend=backend.scanner, **backend.kwargs
    )
    try:
        async with scanner:
            await asyncio.sleep(timeout_s)
    except BleakError as error:
        raise DeviceError(f"cannot scan for insoles: {error}") from error
    found: list[FoundInsole] = []
    for device, adv in heard.values():
        if SERVICE_UUID not in adv.service_uuids:
            continue
        parsed = parse_insole_name(adv.local_name)
        foot, id_low16 = parsed if parsed is not None else (None, None)
        paired_insole = registry.get(foot) if registry is not None and foot is not None else None
        paired = (
            paired_insole is not None and paired_insole.address.upper() == device.address.upper()
        )
        found.append(
            FoundInsole(device.address, adv.local_name or "", foot, id_low16, adv.rssi, paired)
        )
    return sorted(found, key=lambda insole: -insole.rssi_dbm)
