"""The BLE transport end to end: the host's real BleakScanner/BleakClient code, through a bleak
backend over bumble, against virtual insole peripherals on a virtual radio (real ATT: MTU
exchange, discovery, subscriptions, notifications, write types, disconnects)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from numbguard.errors import BadUrl, DeviceError, DeviceNotFound, LinkLost, WrongDevice
from numbguard.protocol.constants import OP_GET_CAL, OP_IDENTIFY, OP_SET_CAL, OP_STOP, OP_TIME_SYNC
from numbguard.protocol.frames import DataFrame, Reply
from numbguard.transports import open_transport
from numbguard.transports.base import FrameEvent
from numbguard.transports.ble import BleTransport, Candidate
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.transports.pairing import PairedInsole, PairingRegistry
from numbguard_lab.bumble_backend import VirtualRadio
from numbguard_lab.checks import altered, missing_or_doubled
from numbguard_lab.virtual_insole_ble import LinkFaults, VirtualInsoleBle

LEFT_ID = 0x1A2B3C4D  # advertises as NGL-3C4D
RIGHT_ID = 0x5E6F7081  # advertises as NGR-7081
GUARD_S = 20.0  # a test that waits this long for something has failed


class Run:
    """A transport whose events a background task collects."""

    def __init__(self, transport: BleTransport) -> None:
        self.transport = transport
        self.events: list[FrameEvent] = []
        self.error: BaseException | None = None
        self._task = asyncio.get_running_loop().create_task(self._collect())

    async def _collect(self) -> None:
        try:
            async for event in self.transport:
                self.events.append(event)
        except DeviceError as error:
            self.error = error

    def data(self, foot: str) -> list[DataFrame]:
        return [e.frame for e in self.events if isinstance(e.frame, DataFrame) and e.foot == foot]

    def late(self, foot: str) -> int:
        return sum(1 for e in self.events if e.late and e.foot == foot)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(GUARD_S):
            while not condition():
                assert self.error is None, self.error
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.transport.close()
        await self._task


async def _insoles(
    radio: VirtualRadio, faults: LinkFaults | None = None
) -> tuple[VirtualInsoleBle, VirtualInsoleBle]:
    left = VirtualInsoleBle(radio, InsoleEmulator(foot="left", insole_id=LEFT_ID), faults=faults)
    right = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=RIGHT_ID), faults=faults)
    await left.start()
    await right.start()
    return left, right


def _transport(radio: VirtualRadio, registry: PairingRegistry, url: str = "ble://") -> BleTransport:
    transport = open_transport(
        url, backend=radio.bleak_backend(), registry=registry, scan_timeout_s=5.0,
        connect_timeout_s=2.0, reconnect_for_s=10.0, time_sync_period_s=0.3,
    )  # fmt: skip
    assert isinstance(transport, BleTransport)
    return transport


@pytest.fixture
def registry(tmp_path: Path) -> PairingRegistry:
    return PairingRegistry(tmp_path / "paired.json")


@pytest.fixture
async def lab() -> AsyncIterator[tuple[VirtualRadio, list[VirtualInsoleBle]]]:
    radio = VirtualRadio()
    peripherals: list[VirtualInsoleBle] = []
    yield radio, peripherals
    for peripheral in peripherals:
        await peripheral.stop()


def assert_whole(frames: list[DataFrame]) -> None:
    assert frames, "no data frames arrived"
    assert missing_or_doubled(frames) == ([], [])
    assert altered(frames) == []


async def test_scan_pairs_both_feet_and_streams_every_frame_at_mtu_247(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    run = Run(await _transport(radio, registry).__aenter__())
    try:
        identities = {i.foot: i for i in run.transport.insoles}
        assert identities["left"].insole_id == LEFT_ID
        assert identities["right"].insole_id == RIGHT_ID
        assert identities["left"].name == "NGL-3C4D" and identities["right"].name == "NGR-7081"
        assert {link.att_mtu for link in run.transport.links.values()} == {247}
        await run.until(lambda: len(run.data("left")) >= 8 and len(run.data("right")) >= 8)
        await run.until(lambda: any(
            isinstance(e.frame, Reply) and e.frame.opcode == OP_TIME_SYNC for e in run.events
        ))  # fmt: skip
        # The frames from before each insole's first one heard are fetched as history.
        await run.until(lambda: all(link.caught_up for link in run.transport.links.values()))
    finally:
        await run.stop()
    for foot in ("left", "right"):
        assert_whole(run.data(foot))
        assert max(frame.n_sets for frame in run.data(foot)) == 25  # 236-byte frames
    paired = PairingRegistry(registry.path)
    assert paired.get("left") == PairedInsole("left", LEFT_ID, peripherals[0].address, "NGL-3C4D")
    assert paired.get("right") is not None and paired.get("right").insole_id == RIGHT_ID  # type: ignore[union-attr]


async def test_default_mtu_23_carries_one_sample_set_per_notification(
    registry: PairingRegistry,
) -> None:
    radio = VirtualRadio(central_mtu=23)
    left, right = await _insoles(radio)
    try:
        run = Run(await _transport(radio, registry).__aenter__())
        try:
            assert {link.att_mtu for link in run.transport.links.values()} == {23}
            await run.until(lambda: len(run.data("left")) >= 30)
            await run.until(lambda: all(k.caught_up for k in run.transport.links.values()))
        finally:
            await run.stop()
    finally:
        await left.stop()
        await right.stop()
    frames = run.data("left")
    assert {frame.n_sets for frame in frames} == {1}
    assert_whole(frames)


async def test_control_frames_get_their_own_replies_on_both_insoles_at_once(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    async with _transport(radio, registry) as transport:
        left = transport.link_for("left")
        right = transport.link_for("right")
        await asyncio.gather(
            transport.control(left, OP_SET_CAL, pad_bit=2, gain=1.5, exponent=0.75),
            transport.control(right, OP_SET_CAL, pad_bit=2, gain=3.0, exponent=1.25),
        )
        replies = await asyncio.gather(
            transport.control(left, OP_GET_CAL, pad_bit=2),
            transport.control(right, OP_GET_CAL, pad_bit=2),
            transport.control(left, OP_IDENTIFY, seconds=3),
        )
    assert [r.data for r in replies[:2]] == [
        {"pad_bit": 2, "gain": 1.5, "exponent": 0.75},
        {"pad_bit": 2, "gain": 3.0, "exponent": 1.25},
    ]
    assert replies[2].opcode == OP_IDENTIFY and replies[2].ok
    assert [r.foot for r in replies] == ["left", "right", "left"]


async def test_link_dropped_mid_run_comes_back_with_no_frame_missing(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    left_insole = peripherals[0]
    run = Run(await _transport(radio, registry).__aenter__())
    try:
        await run.until(lambda: len(run.data("left")) >= 4)
        await left_insole.drop_link(down_s=0.6)  # about 2-3 frames sent into the void
        link = run.transport.links[run.transport.link_for("left")]
        await run.until(lambda: run.transport.reconnects(link.link) == 1)
        sent_after = left_insole.emulator.frames_sent + 4
        await run.until(lambda: max(f.seq for f in run.data("left")) >= sent_after)
        await run.until(lambda: all(k.caught_up for k in run.transport.links.values()))
    finally:
        await run.stop()
    assert_whole(run.data("left"))
    # The frames of the outage came back by RESEND (announced by status page 1 after the
    # reconnection, so they may arrive before newer frames and not count as late).
    assert link.resend_requests >= 1 and link.stream.stats.lost == 0
    assert link.stream.stats.lost == 0
    assert left_insole.connections == 2
    assert_whole(run.data("right"))  # the other foot streamed on


async def test_ten_percent_of_notifications_lost_are_all_recovered(
    registry: PairingRegistry,
) -> None:
    # At MTU 23 each notification is one sample set: 100 notifications a second per insole.
    radio = VirtualRadio(central_mtu=23)
    peripherals = list(await _insoles(radio, LinkFaults(notify_loss=0.10, seed=3)))
    run = Run(await _transport(radio, registry).__aenter__())
    try:
        await run.until(lambda: len(run.data("left")) >= 150 and len(run.data("right")) >= 150)
        for peripheral in peripherals:
            peripheral.faults.notify_loss = 0.0  # the bad patch ends; what it lost must return
        links = run.transport.links.values()
        await run.until(lambda: all(link.caught_up for link in links))
    finally:
        await run.stop()
        for peripheral in peripherals:
            await peripheral.stop()
    lost_on_air = sum(p.notifications_lost for p in peripherals)
    assert lost_on_air >= 15  # the fault really dropped notifications
    for foot in ("left", "right"):
        assert_whole(run.data(foot))
    assert run.late("left") + run.late("right") >= 15
    assert all(link.stream.stats.lost == 0 for link in run.transport.links.values())


async def test_a_device_with_a_paired_name_but_another_address_is_never_connected(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    # The impostor shares the left insole's name (same low 16 bits of id) and service.
    impostor = VirtualInsoleBle(radio, InsoleEmulator(foot="left", insole_id=0x77773C4D))
    left = VirtualInsoleBle(radio, InsoleEmulator(foot="left", insole_id=LEFT_ID))
    right = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=RIGHT_ID))
    peripherals += [impostor, left, right]
    registry.remember(PairedInsole("left", LEFT_ID, left.address, "NGL-3C4D"))
    registry.remember(PairedInsole("right", RIGHT_ID, right.address, "NGR-7081"))
    await impostor.start()
    await right.start()
    transport = _transport(radio, registry)
    opening = asyncio.get_running_loop().create_task(transport.__aenter__())
    async with asyncio.timeout(GUARD_S):
        while impostor.address not in transport.ignored:  # heard, judged, not connected
            await asyncio.sleep(0.01)
    await left.start()  # the real left insole comes into range only now
    try:
        await opening
        assert {i.insole_id for i in transport.insoles} == {LEFT_ID, RIGHT_ID}
    finally:
        await transport.close()
    assert impostor.connections == 0
    assert "not the paired left insole" in transport.ignored[impostor.address]


async def test_an_advertiser_whose_identity_contradicts_its_name_is_refused(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    liar = VirtualInsoleBle(
        radio, InsoleEmulator(foot="left", insole_id=0x99990000), advertised_name="NGL-3C4D"
    )
    await liar.start()
    right = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=RIGHT_ID))
    await right.start()
    peripherals += [liar, right]
    with pytest.raises(WrongDevice) as raised:
        async with _transport(radio, registry):
            pass
    assert raised.value.got == "insole 0x99990000 (left)"
    assert "left insole ...3c4d" in raised.value.expected
    assert registry.get("left") is None


async def test_a_paired_insole_shown_by_its_gap_name_is_still_found_by_address(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    """BlueZ may name a device by the GAP name read on connecting (what SET_NAME set) rather
    than the advertised NGL-xxxx; a paired insole is known by its address then."""
    radio, peripherals = lab
    left = VirtualInsoleBle(
        radio, InsoleEmulator(foot="left", insole_id=LEFT_ID), advertised_name="Trail-L"
    )
    stranger = VirtualInsoleBle(
        radio, InsoleEmulator(foot="left", insole_id=0x55550000), advertised_name="Trail-X"
    )
    peripherals += [left, stranger]
    await left.start()
    await stranger.start()
    registry.remember(PairedInsole("left", LEFT_ID, left.address, "NGL-3C4D"))
    transport = BleTransport(
        "ble://", feet=("left",), backend=radio.bleak_backend(), registry=registry,
        scan_timeout_s=0.5,
    )  # fmt: skip
    heard = await transport.discover()
    verdict = heard[left.address][2]
    assert isinstance(verdict, Candidate) and verdict.foot == "left"
    assert "is not NGL-xxxx" in str(heard[stranger.address][2])


async def test_discover_lists_insoles_with_their_verdict_without_connecting(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    registry.remember(PairedInsole("right", 0x11117081, "C0:00:00:00:99:99", "NGR-7081"))
    transport = open_transport(
        "ble://", backend=radio.bleak_backend(), registry=registry, scan_timeout_s=0.3
    )
    assert isinstance(transport, BleTransport)
    heard = await transport.discover()
    left, right = peripherals
    name, _, verdict = heard[left.address]
    assert name == "NGL-3C4D" and isinstance(verdict, Candidate) and verdict.foot == "left"
    assert "not the paired right insole" in str(heard[right.address][2])
    assert left.connections == right.connections == 0


async def test_an_insole_that_stays_away_ends_the_run_with_device_error(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    transport = open_transport(
        "ble://", backend=radio.bleak_backend(), registry=registry, reconnect_for_s=0.5,
        connect_timeout_s=0.2,
    )  # fmt: skip
    async with transport:
        dropping = asyncio.get_running_loop().create_task(peripherals[0].drop_link(down_s=30))
        with pytest.raises(LinkLost, match=r"not back within 0\.5 s") as raised:
            async with asyncio.timeout(GUARD_S):
                async for _ in transport:
                    pass
        assert raised.value.after_s == 0.5 and raised.value.device == peripherals[0].address
        dropping.cancel()
    assert peripherals[0].connections == 1


async def test_no_insole_in_range_is_a_device_error_saying_what_was_heard(
    registry: PairingRegistry,
) -> None:
    radio = VirtualRadio()
    right = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=RIGHT_ID))
    await right.start()
    try:
        transport = open_transport(
            "ble://", backend=radio.bleak_backend(), registry=registry, scan_timeout_s=0.5
        )
        with pytest.raises(DeviceNotFound, match="heard: ") as raised:
            async with transport:
                pass
        assert raised.value.name_or_address == "left insole on ble://"
        assert raised.value.scanned_s == 0.5
    finally:
        await right.stop()


@pytest.mark.parametrize(
    "url", ["ble://?pair=yes", "ble://?feet=middle", "ble://not-an-address", "ble://?mode=x"]
)
def test_bad_ble_urls_say_what_was_expected(url: str) -> None:
    with pytest.raises(BadUrl, match="expected") as raised:
        open_transport(url, registry=PairingRegistry(None))
    assert raised.value.url == url


def test_the_host_transports_never_import_the_lab_or_bumble() -> None:
    code = (
        "import sys, numbguard.transports.ble, numbguard.transports.serial, numbguard.transports;"
        "bad = sorted(m for m in sys.modules if m.startswith(('bumble', 'numbguard_lab')));"
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_frames_lost_just_before_stop_are_asked_for_from_status_page_1(
    lab: tuple[VirtualRadio, list[VirtualInsoleBle]], registry: PairingRegistry
) -> None:
    radio, peripherals = lab
    peripherals += await _insoles(radio)
    left_insole = peripherals[0]
    run = Run(await _transport(radio, registry).__aenter__())
    try:
        await run.until(lambda: len(run.data("left")) >= 6)
        link = run.transport.links[run.transport.link_for("left")]
        left_insole.faults.notify_loss = 1.0  # the last frames before STOP never arrive
        lost_before = left_insole.notifications_lost
        await run.until(lambda: left_insole.notifications_lost >= lost_before + 2)
        await run.transport.control(link.link, OP_STOP)
        left_insole.faults.notify_loss = 0.0
        # No newer data frame will come to reveal the gap: status page 1 names the last one.
        await run.until(
            lambda: len({f.seq for f in run.data("left")}) == left_insole.emulator.frames_sent
        )
        await run.until(lambda: link.caught_up)
    finally:
        await run.stop()
    assert_whole(run.data("left"))
    assert link.stream.stats.lost == 0
