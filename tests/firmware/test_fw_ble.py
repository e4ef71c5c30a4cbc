"""The firmware's BLE peripheral on the real BLE stack, against a bumble central.

The insole is the unchanged `firmware/main.py` under ``micropython-nimble`` (MicroPython's
NimBLE `bluetooth` module, HCI to a bumble controller on a pty) in a `FirmwareBleLab`; the
central is the lab radio's bumble `Device`. It pairs as a host OS does (LE Secure Connections,
Just Works, bonded), discovers the GATT table, subscribes, exchanges the MTU and writes control
frames built with the host's codec. Shown: the advertising (31 bytes, on while one central is
connected, again after a disconnect), the GATT table with Device Information, Battery and
Running Speed and Cadence, notifications sized to the MTU before and after the exchange,
back-pressure from a stalled radio (NimBLE's gatts_notify raising ENOMEM, as on a board) that
loses no frame and still answers a control write, the time the central was away kept in the
ring and resent, and a central that connects without pairing getting neither data nor a reply.

Every wait is for an event (a frame, a reply, the insole's own counters) with a generous
bound; nothing is timed.
"""

from __future__ import annotations

import asyncio
import collections
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from bumble.att import ATT_Error
from bumble.device import Advertisement, Device
from bumble.hci import Address
from fw_radio import (
    WAIT_S,
    Central,
    Heard,
    SerialWatch,
    connect,
    data_seqs,
    insole_address,
    insole_unheard,
    refusal,
    until,
)

from numbguard.protocol import (
    DataFrame,
    Reply,
    StatusClock,
    StatusCounters,
    StatusFrame,
    StatusIdentity,
    decode_frame,
    make_control,
)
from numbguard.protocol.constants import (
    CONTROL_UUID,
    DATA_UUID,
    FLAG_CONNECTED,
    OP_GET_STATUS,
    OP_RESEND,
    OP_SET_NAME,
    SERVICE_UUID,
    STATUS_UUID,
)
from numbguard_lab.ble_lab import INSOLE_IDS, FirmwareBleLab
from numbguard_lab.firmware_runner import InsoleSpec
from numbguard_lab.radio_link import is_notification

SERVICE_UUID_LE: Final = bytes.fromhex(SERVICE_UUID.replace("-", ""))[::-1]
ATT_SECURITY_ERRORS: Final = {0x05, 0x0F}  # insufficient authentication / encryption
ADV_100_MS: Final = 160  # HCI advertising interval, 0.625 ms units
ADV_1_S: Final = 1600
ADV_IND: Final = 0  # connectable, scannable, undirected
CENTRAL_MTU: Final = 247
FRAMES_AT_MTU_23: Final = 20  # data frames taken before the MTU exchange
PAGES_AT_MTU_247: Final = 4  # status pages (insole seconds) of frames after it
GAP_FRAMES: Final = 40  # frames the insole takes while the central is away (0.4 s at MTU 23)
POLL_SERIAL_S: Final = 0.1  # how often the stalled insole is asked for its counters
RENAMED: Final = "ng-stalled"  # SET_NAME written while the insole cannot send
DEVICE_INFORMATION: Final = {
    "manufacturer": 0x2A29, "model": 0x2A24, "serial": 0x2A25, "firmware": 0x2A26,
}  # fmt: skip
BATTERY_LEVEL: Final = 0x2A19


def _saved_name(lab: FirmwareBleLab) -> str | None:
    """The insole name in the insole's config.json (its flash), if readable now."""
    try:
        values = json.loads((lab.firmware["left"].flash_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    name = values.get("name")
    return name if isinstance(name, str) else None


def _left_insole(workdir: Path, nimble_bin: str) -> FirmwareBleLab:
    spec = InsoleSpec("left", INSOLE_IDS["left"])
    return FirmwareBleLab(workdir, (spec,), micropython=nimble_bin)


@dataclass(frozen=True)
class Advertising:
    """What the insole's controller advertises, as NimBLE set it over HCI."""

    data: bytes
    interval: int  # 0.625 ms units
    kind: int  # HCI advertising type


def advertising(lab: FirmwareBleLab) -> Advertising | None:
    controller = lab.radios["left"].controller
    if controller is None or not controller.le_legacy_advertiser.enabled:
        return None
    advertiser = controller.le_legacy_advertiser
    return Advertising(
        advertiser.advertising_data, advertiser.advertising_interval_min,
        advertiser.advertising_type,
    )  # fmt: skip


async def hear_advertising(lab: FirmwareBleLab) -> bytes:
    """The advertising data as the central's scan receives it (not the scan response)."""
    assert lab.radio is not None
    address = insole_address(lab)
    heard: list[bytes] = []

    def on_advertisement(advertisement: Advertisement) -> None:
        if advertisement.address == address and not advertisement.is_scan_response:
            heard.append(advertisement.data_bytes)

    lab.radio.central.on(Device.EVENT_ADVERTISEMENT, on_advertisement)
    await lab.radio.start_scanning()
    try:
        return (await until(lambda: heard, "the insole's advertisement"))[0]
    finally:
        lab.radio.central.remove_listener(Device.EVENT_ADVERTISEMENT, on_advertisement)
        await lab.radio.stop_scanning()


@dataclass
class Flow:
    """What the central and the insole's serial line saw; `marks` index `heard`."""

    adv_boot: Advertising | None = None
    adv_heard: bytes = b""
    adv_while_connected: list[Advertising | None] = field(default_factory=list)
    adv_after: Advertising | None = None
    services: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    refused_unencrypted: dict[str, int] = field(default_factory=dict)
    device_information: dict[str, bytes] = field(default_factory=dict)
    battery: bytes = b""
    status_value: bytes = b""
    heard: list[Heard] = field(default_factory=list)
    marks: dict[str, int] = field(default_factory=dict)
    retries_in_stall: int = 0  # notify_retries the stalled insole reported over serial
    retries_after_writes: int = 0  # ... once it had handled the central's writes
    heard_while_unheard: int = 0  # notifications the central got meanwhile (none can come)
    last_seq_in_stall: int = -1  # the newest frame it had taken by then
    gap: tuple[int, int] = (0, -1)  # first and last seq the central missed while away
    resend_reply: Reply | None = None


async def _stalled_until_enomem(serial: SerialWatch, request_id: int) -> StatusCounters:
    """Ask over serial until the insole's counters say gatts_notify refused a frame."""
    for attempt in range(int(WAIT_S / POLL_SERIAL_S)):
        pages = await serial.get_status(request_id + attempt)
        counters = pages[StatusCounters]
        assert isinstance(counters, StatusCounters)
        if counters.notify_retries > 0:
            return counters
        await asyncio.sleep(POLL_SERIAL_S)
    raise AssertionError(f"no ENOMEM from NimBLE in {WAIT_S} s of a stalled radio")


async def _run_flow(workdir: Path, nimble_bin: str) -> Flow:
    flow = Flow()
    async with _left_insole(workdir, nimble_bin) as lab:
        serial = SerialWatch(lab)
        flow.adv_boot = advertising(lab)
        flow.adv_heard = await hear_advertising(lab)

        connection = await connect(lab)
        central = Central(connection, flow.heard)
        flow.services = await central.discover()
        # Before pairing: the numbguard characteristics refuse a plain link; the rest is open.
        flow.refused_unencrypted["status read"] = await refusal(
            central.peer.read_value(central.characteristic(STATUS_UUID)))
        flow.refused_unencrypted["control write"] = await refusal(central.write_control(
            make_control(OP_GET_STATUS, 1), response=True))  # fmt: skip
        for name, uuid in DEVICE_INFORMATION.items():
            value = await central.peer.read_value(central.characteristic(uuid))
            flow.device_information[name] = bytes(value)

        await connection.pair()
        await central.subscribe()
        flow.marks["subscribed"] = len(flow.heard)
        subscribed = flow.marks["subscribed"]
        await until(lambda: len(central.data(subscribed)) >= FRAMES_AT_MTU_23
                    and central.status(subscribed),
                    "data frames at MTU 23 and a status page")  # fmt: skip
        status = central.characteristic(STATUS_UUID)
        flow.status_value = bytes(await central.peer.read_value(status))
        flow.battery = bytes(await central.peer.read_value(central.characteristic(BATTERY_LEVEL)))
        flow.adv_while_connected.append(advertising(lab))

        flow.marks["mtu_exchange"] = len(flow.heard)
        assert await central.peer.request_mtu(CENTRAL_MTU) == CENTRAL_MTU
        await until(lambda: len(central.status(flow.marks["mtu_exchange"])) >= PAGES_AT_MTU_247,
                    "status pages after the MTU exchange")  # fmt: skip

        # Back-pressure: nothing the insole sends gets through, NimBLE's buffers fill and
        # gatts_notify raises ENOMEM (the insole says so over serial). Then the central writes
        # GET_STATUS, and SET_NAME, whose effect on the insole's flash shows both were handled
        # while the insole could send nothing: the reply and pages waited in the firmware.
        flow.marks["stall"] = len(flow.heard)
        with insole_unheard(lab):
            counters = await _stalled_until_enomem(serial, 100)
            flow.retries_in_stall = counters.notify_retries
            await central.write_control(make_control(OP_GET_STATUS, 500), response=False)
            await central.write_control(
                make_control(OP_SET_NAME, 501, name=RENAMED), response=False
            )
            await until(lambda: _saved_name(lab) == RENAMED, "the rename in the insole's flash")
            pages = await serial.get_status(200)
            clock, counters = pages[StatusClock], pages[StatusCounters]
            assert isinstance(clock, StatusClock) and isinstance(counters, StatusCounters)
            flow.last_seq_in_stall = clock.last_data_seq
            flow.retries_after_writes = counters.notify_retries
            flow.heard_while_unheard = len(flow.heard) - flow.marks["stall"]

        # Replies leave in order: once this one is in, any kept from the stall came before it.
        await central.get_status(502)
        await until(lambda: max(data_seqs(flow.heard)) >= flow.last_seq_in_stall,
                    "the frames taken during the stall")  # fmt: skip
        flow.adv_while_connected.append(advertising(lab))

        # The central goes away; the insole keeps sampling into its ring meanwhile.
        last_before = max(data_seqs(flow.heard))
        flow.marks["disconnect"] = len(flow.heard)
        await connection.disconnect()
        # Until the disconnect IRQ, the controller keeps the slow advertising of while connected.
        flow.adv_after = await until(
            lambda: (found := advertising(lab)) and found.interval == ADV_100_MS and found,
            "advertising every 100 ms after the disconnect",
        )
        await until(lambda: serial.last_data_seq() >= last_before + GAP_FRAMES,
                    f"{GAP_FRAMES} frames taken while the central is away")  # fmt: skip

        # Back on the stored bond (no pairing); RESEND what it missed.
        connection = await connect(lab)
        await connection.encrypt()
        central = Central(connection, flow.heard)
        await central.discover()
        await central.subscribe()
        await central.peer.request_mtu(CENTRAL_MTU)
        flow.marks["reconnected"] = len(flow.heard)
        first_after = (await until(lambda: central.data(flow.marks["reconnected"]),
                                   "data after reconnecting"))[0].frame.seq  # fmt: skip
        flow.gap = (last_before + 1, first_after - 1)
        flow.marks["resend"] = len(flow.heard)
        flow.resend_reply = await central.resend(501, *flow.gap)
        await connection.disconnect()
    return flow


@pytest.fixture(scope="module")
def flow(nimble_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Flow:
    return asyncio.run(_run_flow(tmp_path_factory.mktemp("ble"), nimble_bin))


def test_advertises_service_and_foot_name_in_31_bytes(flow: Flow) -> None:
    assert flow.adv_boot is not None
    adv = flow.adv_boot.data
    assert len(adv) <= 31
    assert adv[:3] == b"\x02\x01\x06"
    assert adv[3:5] == b"\x11\x07" and adv[5:21] == SERVICE_UUID_LE
    assert adv[21:] == b"\x09\x09NGL-b1e0"  # left foot, insole id ...b1e0 from the unique id
    assert flow.adv_heard == adv  # what the central's scan received
    assert (flow.adv_boot.interval, flow.adv_boot.kind) == (ADV_100_MS, ADV_IND)
    # Still advertising while one central is connected, for a second one (a watch reading
    # cadence: test_fw_rsc.py), also once the pairing stored a bond (NimBLE stops it then).
    connected = Advertising(adv, ADV_1_S, ADV_IND)  # slower: a tenth of the current
    assert flow.adv_while_connected == [connected, connected]
    assert flow.adv_after == flow.adv_boot  # re-advertises after a disconnect


def test_gatt_table_has_the_service_device_information_and_battery(flow: Flow) -> None:
    # Properties as discovered: notify / write + write without response / read + notify.
    assert flow.services[SERVICE_UUID] == [(DATA_UUID, 0x10), (CONTROL_UUID, 0x0C),
                                           (STATUS_UUID, 0x12)]  # fmt: skip
    assert flow.services["180a"] == [("2a29", 0x02), ("2a24", 0x02), ("2a25", 0x02),
                                     ("2a26", 0x02)]  # fmt: skip
    assert flow.services["180f"] == [("2a19", 0x12)]
    assert flow.services["1814"] == [("2a53", 0x10), ("2a54", 0x02)]  # RSC: test_fw_rsc.py
    # Control and session data need an encrypted link; NimBLE refuses a plain one.
    assert set(flow.refused_unencrypted) == {"status read", "control write"}
    assert set(flow.refused_unencrypted.values()) <= ATT_SECURITY_ERRORS
    assert flow.device_information == {
        "manufacturer": b"numbguard", "model": b"numbguard insole", "serial": b"1ab0b1e0",
        "firmware": b"0.1.0",
    }  # fmt: skip
    clock = next(h.frame for h in flow.heard if isinstance(h.frame, StatusClock))
    # Two reads of the battery: the ADC's noise may move the level a percent between them.
    assert len(flow.battery) == 1 and abs(flow.battery[0] - clock.battery_pct) <= 1
    assert 0 < clock.battery_pct <= 100
    # Once paired (and a status period later), the status characteristic reads as the latest
    # status page.
    assert isinstance(decode_frame(flow.status_value), StatusFrame)


def test_notifications_fit_the_mtu_before_and_after_the_exchange(flow: Flow) -> None:
    marks = flow.marks
    before = [h.value for h in flow.heard[marks["subscribed"]:marks["mtu_exchange"]]]
    data_before = [h.value for h in flow.heard[marks["subscribed"]:marks["mtu_exchange"]]
                   if h.on == "data"]  # fmt: skip
    assert len(data_before) >= FRAMES_AT_MTU_23 and all(len(v) <= 20 for v in before)
    after = [h for h in flow.heard[marks["mtu_exchange"]:marks["stall"]]]
    assert all(len(h.value) <= CENTRAL_MTU - 3 for h in after)
    # 25 six-pad sets (250 ms at 100 Hz): what fits in MTU 247 - 3.
    assert max(len(h.value) for h in after if h.on == "data") == 236


def test_back_pressure_keeps_every_frame(flow: Flow) -> None:
    assert flow.retries_in_stall > 0  # NimBLE raised ENOMEM and the insole counted it
    seqs = data_seqs(flow.heard[flow.marks["subscribed"]:flow.marks["disconnect"]])
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, none twice
    # Every frame taken during the stall came, those gatts_notify refused included.
    assert seqs[-1] >= flow.last_seq_in_stall


def test_control_write_gets_reply_and_status_pages_despite_back_pressure(flow: Flow) -> None:
    on_status = [h.frame for h in flow.heard[flow.marks["stall"]:flow.marks["disconnect"]]
                 if h.on == "status"]  # fmt: skip
    replies = [f for f in on_status if isinstance(f, Reply)]
    assert [(r.seq, r.opcode, r.result) for r in replies] == [
        (500, OP_GET_STATUS, 0), (501, OP_SET_NAME, 0), (502, OP_GET_STATUS, 0),
    ]  # fmt: skip
    index = on_status.index(replies[0])
    pages = on_status[index + 1:index + 6]
    assert [type(f).page for f in pages if isinstance(f, StatusFrame)] == [0, 1, 2, 3, 4]
    # The insole handled both writes while NimBLE refused every notification (the central
    # heard nothing, and the refusals went on): the reply and pages were kept and came later.
    assert flow.heard_while_unheard == 0
    assert flow.retries_after_writes > flow.retries_in_stall


def test_disconnected_time_stays_in_the_ring_and_is_resent(flow: Flow) -> None:
    first, last = flow.gap
    assert last - first + 1 >= GAP_FRAMES  # the insole kept sampling while the central was away
    after = flow.heard[flow.marks["resend"]:]
    reply = flow.resend_reply
    assert reply is not None and (reply.seq, reply.opcode, reply.result) == (501, OP_RESEND, 0)
    assert reply.data["frames_queued"] == last - first + 1
    resent = {h.frame.seq for h in after if isinstance(h.frame, DataFrame)}
    assert set(range(first, last + 1)) <= resent


async def test_a_central_that_does_not_pair_gets_no_data_and_no_reply(
    tmp_path: Path, nimble_bin: str
) -> None:
    async with _left_insole(tmp_path, nimble_bin) as lab:
        assert lab.radio is not None
        serial = SerialWatch(lab)
        to_central: collections.Counter[str] = collections.Counter()

        def on_pdu(_sender: object, destination: Address, pdu: bytes) -> None:
            if is_notification(pdu):
                to_central[destination.to_string(with_type_qualifier=False)] += 1

        lab.radio.link.on_pdu = on_pdu
        central = Central(await connect(lab))
        await central.discover()
        await central.subscribe()  # NimBLE lets a plain link write the CCCDs
        with pytest.raises(ATT_Error) as refused:
            await central.write_control(make_control(OP_GET_STATUS, 7), response=True)
        assert refused.value.error_code in ATT_SECURITY_ERRORS
        await central.write_control(make_control(OP_GET_STATUS, 8), response=False)
        # ATT handles requests in order: once this read is answered, NimBLE has dealt with the
        # write before it. Then the insole samples a second more (its control task polls every
        # 20 ms), streaming over serial, not to the central.
        await central.peer.read_value(central.characteristic(DEVICE_INFORMATION["serial"]))
        start = serial.last_data_seq()
        pages = [f.seq for f in serial.frames() if isinstance(f, StatusFrame)]
        pages_before = max(pages, default=-1)

        def identity_page() -> StatusIdentity | None:
            return next((f for f in serial.frames() if isinstance(f, StatusIdentity)
                         and f.seq > pages_before), None)  # fmt: skip

        await until(lambda: serial.last_data_seq() >= start + 100, "a second of frames on serial")
        identity = await until(identity_page, "an identity page on serial")
        address = lab.radio.central.random_address.to_string(with_type_qualifier=False)
        assert to_central[address] == 0 and central.heard == []
        assert not identity.flags & FLAG_CONNECTED  # the insole does not take it for a host
        await central.connection.disconnect()
