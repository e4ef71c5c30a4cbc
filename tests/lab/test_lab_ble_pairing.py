"""Pairing with the real firmware over the virtual radio: the insole wants an encrypted, bonded
link for control and session data. An unpaired central is refused; the bonded host reconnects
without pairing again, also after the insole restarted; once bonded, the insole takes no new
pairing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bleak import BleakClient
from bleak.exc import BleakError
from bumble.att import ATT_INSUFFICIENT_ENCRYPTION_ERROR, ATT_Error
from bumble.device import Device
from bumble.hci import Address
from bumble.keys import MemoryKeyStore
from bumble.smp import SMP_PAIRING_NOT_SUPPORTED_ERROR

from numbguard.lab.ble_lab import INSOLE_IDS, FirmwareBleLab
from numbguard.lab.bonded_central import central_pairing_config
from numbguard.lab.bumble_backend import BumbleBleakClient
from numbguard.lab.firmware_runner import InsoleSpec
from numbguard.protocol.constants import CONTROL_UUID, DATA_UUID, OP_IDENTIFY
from numbguard.protocol.frames import DataFrame
from numbguard.transports.ble import BleTransport
from numbguard.transports.pairing import PairingRegistry


def _att_error(error: BaseException) -> int | None:
    """The ATT error code behind a bleak error raised by the bumble backend."""
    cause = error.__cause__
    return cause.error_code if isinstance(cause, ATT_Error) else None


def _left_insole(workdir: Path, micropython: str) -> FirmwareBleLab:
    """The left insole's firmware alone on a virtual radio."""
    spec = InsoleSpec("left", INSOLE_IDS["left"])
    return FirmwareBleLab(workdir, (spec,), micropython=micropython)


def _host(lab: FirmwareBleLab, registry: PairingRegistry) -> BleTransport:
    """The host's BLE transport for the left insole, through the lab's radio."""
    return BleTransport("ble://", feet=("left",), backend=lab.backend, registry=registry)


async def _frames_arrive(transport: BleTransport, wanted: int) -> None:
    received = 0
    while received < wanted:
        event = await transport.next_event(timeout_s=10)
        assert event is not None
        received += isinstance(event.frame, DataFrame)


async def test_unpaired_central_is_refused_and_the_bonded_host_reconnects_without_pairing(
    tmp_path: Path, micropython_bin: str
) -> None:
    async with _left_insole(tmp_path, micropython_bin) as lab:
        assert lab.radio is not None
        bridge = lab.bridges["left"]

        # A central that does not pair: it may connect and read the GATT table, no more.
        stranger = BleakClient(bridge.address, timeout=10, backend=BumbleBleakClient,
                               bumble_radio=lab.radio)  # fmt: skip
        await stranger.connect()
        try:
            with pytest.raises(BleakError) as refused:
                await stranger.start_notify(DATA_UUID, lambda _c, _d: None)
            assert _att_error(refused.value) == ATT_INSUFFICIENT_ENCRYPTION_ERROR
            with pytest.raises(BleakError) as refused:
                await stranger.write_gatt_char(CONTROL_UUID, b"\x00" * 8, response=True)
            assert _att_error(refused.value) == ATT_INSUFFICIENT_ENCRYPTION_ERROR
        finally:
            await stranger.disconnect()
        assert bridge.counters.pairings == 0

        # The host pairs once (Just Works, bonded) and streams.
        registry = PairingRegistry(None)
        async with _host(lab, registry) as transport:
            await _frames_arrive(transport, 3)
        assert bridge.counters.pairings == 1
        assert registry.get("left") is not None

        # Next session: same host, new connection, encrypted from the stored key.
        async with _host(lab, registry) as transport:
            await _frames_arrive(transport, 3)
            reply = await transport.control(transport.link_for("left"), OP_IDENTIFY, seconds=1)
            assert reply.ok
            assert bridge.connection is not None and bridge.connection.is_encrypted
        assert bridge.counters.pairings == 1 and bridge.counters.connections == 3


async def test_once_bonded_the_insole_refuses_a_new_pairing(
    tmp_path: Path, micropython_bin: str
) -> None:
    async with _left_insole(tmp_path, micropython_bin) as lab:
        assert lab.radio is not None
        bridge = lab.bridges["left"]
        async with _host(lab, PairingRegistry(None)) as transport:
            await _frames_arrive(transport, 1)
        assert bridge.counters.pairings == 1

        # Another phone, with the same pairing settings as the host, asks to pair.
        other: Device = lab.radio.new_device("other-phone")
        other.keystore = MemoryKeyStore()
        other.pairing_config_factory = central_pairing_config
        await other.power_on()
        connection = await other.connect(
            Address(bridge.address, Address.RANDOM_DEVICE_ADDRESS), timeout=10
        )
        with pytest.raises(Exception) as refused:
            await connection.pair()
        assert getattr(refused.value, "error_code", None) == SMP_PAIRING_NOT_SUPPORTED_ERROR
        assert bridge.counters.pairings == 1 and bridge.counters.pairings_refused == 1
        assert not connection.is_encrypted
        await connection.disconnect()


async def test_a_reset_insole_is_noticed_and_its_bond_survives(
    tmp_path: Path, micropython_bin: str
) -> None:
    spec = InsoleSpec("left", INSOLE_IDS["left"])
    lab = FirmwareBleLab(tmp_path, (spec,), clock_scale=5, micropython=micropython_bin)
    async with lab, _host(lab, PairingRegistry(None)) as transport:
        bridge = lab.bridges["left"]
        await _frames_arrive(transport, 20)
        before = transport.insoles[0].boot_id
        await asyncio.to_thread(lab.firmware["left"].reset)  # the watchdog: the chip restarts
        boots: set[int | None] = set()
        while len(boots - {before, None}) == 0:
            event = await transport.next_event(timeout_s=10)
            assert event is not None
            boots.add(event.insole.boot_id)
        await _frames_arrive(transport, 20)
        link = transport.links[transport.link_for("left")]
        assert link.stream.stats.resets == 1
        assert [gap.reason for gap in link.stream.gaps].count("reset") == 1
        # Back on the same bond: re-encrypted, not paired again.
        assert bridge.counters.connections == 2 and bridge.counters.pairings == 1
        assert bridge.connection is not None and bridge.connection.is_encrypted
