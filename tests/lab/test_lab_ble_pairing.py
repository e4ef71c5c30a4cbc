"""Security with the real firmware on the real BLE stack (NimBLE under MicroPython) over the
virtual radio: session data and control go only to a central that bonded with the insole.

A central that connects without pairing may subscribe (NimBLE lets any link write a CCCD) but
gets no notification, and its control writes and status reads are refused by NimBLE (the
characteristics need encryption). A fresh insole takes
one pairing; after that, a new central is dropped unless the owner opened the pairing window
with the button. The bonded host reconnects on its stored keys without pairing again, also
after the insole restarted; once the insole forgot its bonds, the old bond is refused with a
line that says what to do.
"""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

import pytest
from bumble.att import ATT_Error
from bumble.core import UUID
from bumble.device import Connection, Device, Peer
from bumble.hci import Address
from bumble.keys import MemoryKeyStore

from numbguard.cli.forget import forget_insoles
from numbguard.cli.pair import pair_insoles
from numbguard.errors import DeviceError
from numbguard.protocol import encode_frame, make_control
from numbguard.protocol.constants import (
    CONTROL_UUID,
    DATA_UUID,
    FLAG_WOKE,
    OP_FORGET_BONDS,
    OP_GET_STATUS,
    OP_IDENTIFY,
    STATUS_UUID,
)
from numbguard.protocol.frames import DataFrame, StatusIdentity
from numbguard.transports.ble import BleTransport
from numbguard.transports.pairing import PairingRegistry
from numbguard_lab.ble_lab import INSOLE_IDS, FirmwareBleLab
from numbguard_lab.bumble_backend import central_pairing_config
from numbguard_lab.firmware_runner import InsoleSpec
from numbguard_lab.radio_link import is_notification

# ATT errors NimBLE answers for an encrypted characteristic on a plain link.
ATT_SECURITY_ERRORS = {0x05, 0x0F}  # insufficient authentication, insufficient encryption
WAIT_S = 15.0  # generous: two MicroPython processes and the host on a loaded machine
QUIET_S = 2.0  # how long a refused central listens for notifications that must not come
PAIRING_PRESS_S = 3.5  # firmware/button.py opens the window after 3 s
FORGET_PRESS_S = 10.5  # ... and forgets every bond after 10 s


def _left_insole(workdir: Path, nimble_bin: str, clock_scale: int = 1) -> FirmwareBleLab:
    """The left insole's firmware alone on a virtual radio."""
    spec = InsoleSpec("left", INSOLE_IDS["left"])
    return FirmwareBleLab(workdir, (spec,), clock_scale=clock_scale, micropython=nimble_bin)


def _host(lab: FirmwareBleLab, registry: PairingRegistry, *, pair: bool) -> BleTransport:
    """The host's BLE transport for the left insole, through the lab's radio."""
    return BleTransport(
        "ble://", feet=("left",), backend=lab.backend, registry=registry, pair=pair
    )


async def _frames_arrive(transport: BleTransport, wanted: int) -> None:
    received = 0
    while received < wanted:
        event = await transport.next_event(timeout_s=WAIT_S)
        assert event is not None
        received += isinstance(event.frame, DataFrame)


class Notifications:
    """Counts the ATT notifications the air delivers to each address."""

    def __init__(self, lab: FirmwareBleLab) -> None:
        assert lab.radio is not None
        self.to: collections.Counter[str] = collections.Counter()
        lab.radio.link.on_pdu = self._seen

    def _seen(self, _sender: object, destination: Address, pdu: bytes) -> None:
        if is_notification(pdu):
            self.to[destination.to_string(with_type_qualifier=False)] += 1


async def _phone(lab: FirmwareBleLab, name: str) -> Device:
    """Another central on the radio, pairing as a phone or laptop would (bonded, Just Works)."""
    assert lab.radio is not None
    phone = lab.radio.new_device(name)
    phone.keystore = MemoryKeyStore()
    phone.pairing_config_factory = central_pairing_config
    await phone.power_on()
    return phone


async def _connect(phone: Device, lab: FirmwareBleLab) -> Connection:
    assert lab.radio is not None
    insole = Address(lab.radios["left"].address, Address.PUBLIC_DEVICE_ADDRESS)
    await lab.radio.wait_for_advertiser(insole, WAIT_S)
    return await phone.connect(insole, timeout=WAIT_S)


async def _dropped(connection: Connection) -> None:
    """Until the insole ends the link."""
    gone = asyncio.Event()
    connection.on("disconnection", lambda _reason: gone.set())
    if connection.handle not in connection.device.connections:
        return
    await asyncio.wait_for(gone.wait(), WAIT_S)


def _address(phone: Device) -> str:
    return phone.random_address.to_string(with_type_qualifier=False)


async def test_a_central_that_does_not_pair_gets_nothing(tmp_path: Path, nimble_bin: str) -> None:
    async with _left_insole(tmp_path, nimble_bin) as lab:
        heard = Notifications(lab)
        stranger = await _phone(lab, "stranger")
        connection = await _connect(stranger, lab)
        peer = Peer(connection)
        await peer.discover_services()
        await peer.discover_characteristics()
        data = peer.get_characteristics_by_uuid(UUID(DATA_UUID))[0]
        control = peer.get_characteristics_by_uuid(UUID(CONTROL_UUID))[0]
        status = peer.get_characteristics_by_uuid(UUID(STATUS_UUID))[0]
        await data.discover_descriptors()
        # NimBLE lets any link write a CCCD: subscribing works, nothing is sent all the same.
        await peer.subscribe(data, lambda _value: None)
        with pytest.raises(ATT_Error) as refused:
            await peer.read_value(status)
        assert refused.value.error_code in ATT_SECURITY_ERRORS
        request = encode_frame(make_control(OP_GET_STATUS, 1))
        with pytest.raises(ATT_Error) as refused:
            await peer.write_value(control, request, with_response=True)
        assert refused.value.error_code in ATT_SECURITY_ERRORS
        await peer.write_value(control, request, with_response=False)  # no reply may come
        await asyncio.sleep(QUIET_S)
        assert heard.to[_address(stranger)] == 0  # the insole streams, but not to it
        await connection.disconnect()
        assert lab.radio is not None and lab.radio.pairings == collections.Counter()


async def test_the_bonded_host_reconnects_without_pairing_and_a_new_central_needs_the_button(
    tmp_path: Path, nimble_bin: str
) -> None:
    async with _left_insole(tmp_path, nimble_bin) as lab:
        assert lab.radio is not None
        address = lab.radios["left"].address
        heard = Notifications(lab)
        # A fresh insole takes the first pairing (Just Works, bonded) and streams.
        registry = PairingRegistry(None)
        async with _host(lab, registry, pair=True) as transport:
            await _frames_arrive(transport, 3)
        assert lab.radio.pairings[address] == 1
        assert registry.get("left") is not None

        # Now bonded: another phone pairs, and the insole drops it without sending it a thing.
        phone = await _phone(lab, "other-phone")
        connection = await _connect(phone, lab)
        with pytest.raises(Exception):  # noqa: B017 - refused or cut mid-pairing, as it lands
            await connection.pair()
            await _dropped(connection)
            raise AssertionError("still connected")
        await _dropped(connection)
        assert heard.to[_address(phone)] == 0

        # Next session: the host reconnects on its stored bond, no pairing, control works.
        async with _host(lab, registry, pair=False) as transport:
            await _frames_arrive(transport, 3)
            reply = await transport.control(transport.link_for("left"), OP_IDENTIFY, seconds=1)
            assert reply.ok
        assert lab.radio.pairings[address] == 1

        # The owner holds the button for 3 s: the window opens and the phone may bond.
        await lab.press_button("left", PAIRING_PRESS_S)
        connection = await _connect(phone, lab)
        await connection.pair()
        peer = Peer(connection)
        await peer.discover_services()
        await peer.discover_characteristics()
        got = asyncio.Event()
        data = peer.get_characteristics_by_uuid(UUID(DATA_UUID))[0]
        await data.discover_descriptors()
        await peer.subscribe(data, lambda _value: got.set())
        await asyncio.wait_for(got.wait(), WAIT_S)
        await connection.disconnect()


async def test_a_reset_insole_is_noticed_and_its_bond_survives(
    tmp_path: Path, nimble_bin: str
) -> None:
    lab = _left_insole(tmp_path, nimble_bin, clock_scale=5)
    async with lab, _host(lab, PairingRegistry(None), pair=True) as transport:
        assert lab.radio is not None
        radio = lab.radios["left"]
        await _frames_arrive(transport, 20)
        before = transport.insoles[0].boot_id
        await lab.reset("left")  # the watchdog: the chip and its radio restart
        boots: set[int | None] = set()
        while len(boots - {before, None}) == 0:
            event = await transport.next_event(timeout_s=WAIT_S)
            assert event is not None
            boots.add(event.insole.boot_id)
        await _frames_arrive(transport, 20)
        link = transport.links[transport.link_for("left")]
        assert link.stream.stats.resets == 1
        assert [gap.reason for gap in link.stream.gaps].count("reset") == 1
        # Back on the same bond (kept in the insole's flash): re-encrypted, not paired again.
        assert radio.counters.connections == 2
        assert lab.radio.pairings[radio.address] == 1


async def test_forgotten_bonds_refuse_the_old_host_saying_what_to_do(
    tmp_path: Path, nimble_bin: str
) -> None:
    async with _left_insole(tmp_path, nimble_bin) as lab:
        registry = PairingRegistry(None)
        async with _host(lab, registry, pair=True) as transport:
            await _frames_arrive(transport, 3)
            reply = await transport.control(transport.link_for("left"), OP_FORGET_BONDS)
            assert reply.ok
        with pytest.raises(DeviceError, match="numbguard pair"):
            async with _host(lab, registry, pair=False):
                pass


async def test_pair_and_forget_commands_with_the_real_firmware(
    tmp_path: Path, nimble_bin: str
) -> None:
    async with _left_insole(tmp_path, nimble_bin, clock_scale=5) as lab:
        assert lab.radio is not None
        address = lab.radios["left"].address
        registry = PairingRegistry(tmp_path / "paired-insoles.json")

        def transport(*, pair: bool) -> BleTransport:
            return BleTransport(
                "ble://", pair=pair, feet=("left",), backend=lab.backend, registry=registry
            )

        (line,) = await pair_insoles(transport(pair=True))
        assert line.startswith("left: paired with NGL-b1e0 at 24:0A:1A:B0:B1:E0")
        assert PairingRegistry(registry.path).get("left") is not None  # kept on disk

        (line,) = await forget_insoles(transport(pair=False))
        assert line.endswith("forgot its bonds")
        assert PairingRegistry(registry.path).get("left") is None
        keystore = lab.radio.central.keystore
        assert keystore is not None and not await keystore.get_all()  # the host's bond went too

        # Forgotten on both sides: pairing starts afresh, no button needed.
        await pair_insoles(transport(pair=True))
        assert lab.radio.pairings[address] == 2

        # A 10 s press forgets on the insole alone; the host's stale bond is dropped on pairing.
        await lab.press_button("left", FORGET_PRESS_S)
        await pair_insoles(transport(pair=True))
        assert lab.radio.pairings[address] == 3
        with pytest.raises(DeviceError, match="a paired insole to forget: not found"):
            await forget_insoles(
                BleTransport("ble://", backend=lab.backend, registry=PairingRegistry(None))
            )


async def test_after_deep_sleep_and_a_wake_the_host_reconnects_on_its_bond(
    tmp_path: Path, nimble_bin: str
) -> None:
    # Short power times (config.json on the insole's flash): no host for 2 s -> idle, 2 s idle
    # -> deep sleep; the default is 120 s and 15 min.
    flash = tmp_path / "left"
    flash.mkdir()
    (flash / "config.json").write_text(
        json.dumps({"foot": "left", "host_gone_s": 2, "idle_sleep_s": 2})
    )
    async with _left_insole(tmp_path, nimble_bin, clock_scale=5) as lab:
        assert lab.radio is not None
        firmware = lab.firmware["left"]
        registry = PairingRegistry(None)
        async with _host(lab, registry, pair=True) as transport:
            await _frames_arrive(transport, 3)
            slept_boot = transport.insoles[0].boot_id
        async with asyncio.timeout(WAIT_S):  # the host went: idle, then deep sleep
            while firmware.running:
                await asyncio.sleep(0.1)
        # machine.deepsleep ends the program with SystemExit(0); a crash would exit 1.
        assert firmware.process is not None and firmware.process.returncode == 0
        await lab.wake("left")
        async with _host(lab, registry, pair=False) as transport:
            await _frames_arrive(transport, 3)
            (identity,) = transport.insoles
            assert identity.boot_id != slept_boot
            # Page 0 says this boot is a wake from deep sleep.
            await transport.control(transport.link_for("left"), OP_GET_STATUS)
            while True:
                event = await transport.next_event(timeout_s=WAIT_S)
                assert event is not None
                if isinstance(event.frame, StatusIdentity):
                    assert event.frame.flags & FLAG_WOKE
                    break
        assert lab.radio.pairings[lab.radios["left"].address] == 1  # re-encrypted, not paired
