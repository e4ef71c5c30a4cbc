"""Cadence on a watch: the Running Speed and Cadence service on the real BLE stack.

The left insole's unchanged `firmware/main.py` runs under ``micropython-nimble`` (MicroPython's
NimBLE `bluetooth`, a bumble controller) in a `FirmwareBleLab`, sampling a steady run at
170 steps/min. The host's real BLE transport pairs and streams a session into a
`SessionRunner` (`run_ble_lab`). Once the host streams, a second central, a watch (its own
bumble device and controller on the same radio), finds the insole still advertising, is refused
RSC Feature until it pairs, pairs inside the window the owner opens with the button, reads the
features, subscribes to RSC Measurement and keeps what it hears. Shown: the watch's cadence
matches the trace's and the host's analysis of the session; the host's session holds every
sample the insole took, exactly as its pads read them; the watch gets no notification but RSC
Measurement; the insole stops advertising while two centrals are connected. And a watch that
bonded before any host, once it read RSC Feature, is the cadence central on its later
connections too, even before the host connects: the host's data never goes to it. A central
that never pairs gives its slot back after 30 s.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
from bumble.core import UUID
from bumble.device import Peer
from bumble.hci import Address
from fw_radio import Central, connect, refusal, second_central, until

from numbguard.deploy.bundle import default_firmware_dir
from numbguard.pads import Foot
from numbguard.protocol.constants import DATA_UUID, STATUS_UUID
from numbguard.protocol.frames import DataFrame
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent
from numbguard_lab.ble_lab import BleLabRun, FirmwareBleLab, lab_specs, run_ble_lab
from numbguard_lab.traces import PadTrace, scenario_traces

RUN_S: Final = 90.0  # insole seconds
CLOCK_SCALE: Final = 5
RUN_SPM: Final = 170.0  # the scenario's plan (normal_run)
# Each value: the simulated runner's strides vary by a few %, and in the lab a sample slot the
# loaded machine misses delays the trace by 10 ms (each read takes the next row), lowering
# that stride's cadence by 2.4 steps/min; a board's pads are not delayed. The values' median:
MEDIAN_TOLERANCE: Final = 3.0
SPM_TOLERANCE: Final = 10.0
MEASUREMENTS: Final = 15  # RSC Measurements the watch keeps (one per insole second)
CAUGHT_UP_FRAMES: Final = 8  # on-time data frames in a row: 2 s at MTU 247, no resend going
BUTTON_S: Final = 3.5  # the owner's press that opens the pairing window (3 s, button.py)
RSC_SERVICE: Final = UUID.from_16_bits(0x1814)
RSC_MEASUREMENT: Final = UUID.from_16_bits(0x2A53)
RSC_FEATURE: Final = UUID.from_16_bits(0x2A54)
ATT_SECURITY_ERRORS: Final = {0x05, 0x0F}  # insufficient authentication / encryption
_ATT_NOTIFICATION: Final = 0x1B


@dataclass
class Watch:
    """What the watch saw."""

    heard_advertising: bool = False
    feature_before_pairing: int = 0  # the ATT error of reading RSC Feature unpaired
    feature: bytes = b""
    status_refusal: int = 0  # the ATT error of reading the numbguard status once paired
    measurements: list[bytes] = field(default_factory=list)
    measurement_handle: int = -1
    advertising_with_two: bool | None = None
    notified_handles: collections.Counter[int] = field(default_factory=collections.Counter)


def _traces() -> dict[Foot, PadTrace]:
    return {"left": scenario_traces("normal_run", RUN_S, seed=5)["left"]}


def _advertising(lab: FirmwareBleLab) -> bool:
    controller = lab.radios["left"].controller
    return controller is not None and controller.le_legacy_advertiser.enabled


async def _watch(lab: FirmwareBleLab, watch: Watch) -> None:
    """A watch pairing with the insole as with a footpod, while the host streams."""
    assert lab.radio is not None
    watch_address = ""

    def on_pdu(_sender: object, destination: Address, pdu: bytes) -> None:
        to = destination.to_string(with_type_qualifier=False)
        if to == watch_address and len(pdu) >= 7 and pdu[4] == _ATT_NOTIFICATION:
            watch.notified_handles[int.from_bytes(pdu[5:7], "little")] += 1

    lab.radio.link.on_pdu = on_pdu
    connection = await second_central(lab, "watch")  # heard advertising beside the host
    watch.heard_advertising = True
    watch_address = connection.self_address.to_string(with_type_qualifier=False)
    peer = Peer(connection)
    await peer.discover_services()
    for service in peer.services:
        await service.discover_characteristics()
    feature = peer.get_characteristics_by_uuid(RSC_FEATURE)[0]
    watch.feature_before_pairing = await refusal(peer.read_value(feature))
    await lab.press_button("left", BUTTON_S)  # the owner opens the pairing window
    await connection.pair()
    watch.feature = bytes(await peer.read_value(feature))
    status = peer.get_characteristics_by_uuid(UUID(STATUS_UUID))[0]
    watch.status_refusal = await refusal(peer.read_value(status))
    measurement = peer.get_characteristics_by_uuid(RSC_MEASUREMENT)[0]
    watch.measurement_handle = measurement.handle
    await peer.subscribe(measurement, lambda value: watch.measurements.append(bytes(value)))
    await until(lambda: len(watch.measurements) >= MEASUREMENTS, "RSC measurements")
    watch.advertising_with_two = _advertising(lab)
    await connection.disconnect()


async def _run(tmp_path: Path, micropython: str) -> tuple[BleLabRun, Watch]:
    traces = _traces()
    lab = FirmwareBleLab(
        tmp_path / "flash", lab_specs(traces), clock_scale=CLOCK_SCALE, micropython=micropython
    )  # fmt: skip
    watch = Watch()
    tasks: list[asyncio.Task[None]] = []
    on_time = [0]

    def on_event(event: FrameEvent) -> None:
        # Once the host caught up with what the insole took before it listened (its RESEND
        # burst fills NimBLE's buffers: docs/protocol.md), the watch comes.
        if isinstance(event.frame, DataFrame):
            on_time[0] = 0 if event.late else on_time[0] + 1
        if not tasks and on_time[0] >= CAUGHT_UP_FRAMES:
            tasks.append(asyncio.get_running_loop().create_task(_watch(lab, watch)))

    runner = SessionRunner(session_start_s=time.monotonic())
    run = await run_ble_lab(lab, runner, duration_s=RUN_S, on_event=on_event)
    assert tasks, "the host never streamed"
    await tasks[0]  # raises what went wrong on the watch's side
    return run, watch


async def test_a_watch_reads_the_cadence_while_the_host_streams_every_sample(
    tmp_path: Path, nimble_bin: str
) -> None:
    run, watch = await _run(tmp_path, nimble_bin)
    # The watch: found the insole advertising beside the host's link, had to pair (in the
    # window the button opened), then read "no optional feature" and the measurements.
    assert watch.heard_advertising
    assert watch.feature_before_pairing in ATT_SECURITY_ERRORS
    assert watch.feature == b"\x00\x00"
    assert watch.status_refusal in ATT_SECURITY_ERRORS  # paired, yet not the host
    assert watch.advertising_with_two is False  # two centrals: no more advertising
    assert len(watch.measurements) >= MEASUREMENTS
    for value in watch.measurements:
        # Flags 0 (no stride length, no distance), speed 0 (no speed sensor), cadence.
        assert len(value) == 4 and value[:3] == b"\x00\x00\x00", value.hex()
    cadence = np.array([value[3] for value in watch.measurements], dtype=float)
    assert run.result is not None and run.result.cadence_spm is not None
    host_spm = run.result.cadence_spm
    assert abs(host_spm - RUN_SPM) <= SPM_TOLERANCE
    assert abs(float(np.median(cadence)) - RUN_SPM) <= MEDIAN_TOLERANCE, cadence
    assert abs(float(np.median(cadence)) - host_spm) <= MEDIAN_TOLERANCE, (cadence, host_spm)
    assert np.all(np.abs(cadence - host_spm) <= SPM_TOLERANCE), (cadence, host_spm)
    # Only RSC Measurement was notified to the watch: none of the host's data or status.
    assert set(watch.notified_handles) == {watch.measurement_handle}, watch.notified_handles

    # The host lost nothing: every sample the insole took, once, in order, as its pads read it.
    frames = {e.frame.seq: e.frame for e in run.data_events if isinstance(e.frame, DataFrame)}
    seqs = sorted(frames)
    assert seqs == list(range(len(seqs)))
    samples = np.concatenate([frames[seq].samples for seq in seqs])
    taken = run.samples_taken["left"]
    assert len(samples) == taken > 0.8 * RUN_S * 100
    spec = run.lab.specs[0]
    trace = _traces()["left"]
    np.testing.assert_array_equal(samples, trace.read_by(spec.adc(), default_firmware_dir(),
                                                         0, taken))  # fmt: skip
    assert run.runner.tracks["left"].stream.missing() == 0



async def test_a_watch_known_as_a_collector_never_takes_the_hosts_role(
    tmp_path: Path, nimble_bin: str
) -> None:
    """A watch that bonded first (no host yet) holds the host's role until it reads RSC
    Feature; from then on, and on its later connections, it is the cadence central even when
    it connects before the host, and the host that comes after it gets the data."""
    lab = FirmwareBleLab(tmp_path, lab_specs(_traces()), clock_scale=CLOCK_SCALE,
                         micropython=nimble_bin)  # fmt: skip
    async with lab:
        assert lab.radio is not None
        notified: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter)  # fmt: skip

        def on_pdu(_sender: object, destination: Address, pdu: bytes) -> None:
            if len(pdu) >= 7 and pdu[4] == _ATT_NOTIFICATION:
                to = destination.to_string(with_type_qualifier=False)
                notified[to][int.from_bytes(pdu[5:7], "little")] += 1

        lab.radio.link.on_pdu = on_pdu
        connection = await second_central(lab, "watch")  # a fresh insole: the window is open
        device = connection.device
        address = connection.self_address.to_string(with_type_qualifier=False)
        await connection.pair()
        peer = Peer(connection)
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
        measurement = peer.get_characteristics_by_uuid(RSC_MEASUREMENT)[0]
        data = next(c for c in peer.get_characteristics_by_uuid(UUID(DATA_UUID)))
        assert await peer.read_value(peer.get_characteristics_by_uuid(RSC_FEATURE)[0])
        notified[address].clear()  # ATT keeps order: nothing sent before the read comes after
        heard: list[bytes] = []
        await peer.subscribe(measurement, lambda value: heard.append(bytes(value)))
        await until(lambda: len(heard) >= 2, "RSC measurements, the watch the cadence central")
        assert set(notified[address]) == {measurement.handle}
        await connection.disconnect()

        # Back first, on its bond: the cadence central at once.
        notified[address].clear()
        connection = await second_central(lab, "watch", device=device)
        await connection.encrypt()
        peer = Peer(connection)
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
        heard.clear()
        measurement = peer.get_characteristics_by_uuid(RSC_MEASUREMENT)[0]
        await peer.subscribe(measurement, lambda value: heard.append(bytes(value)))
        await until(lambda: len(heard) >= 2, "RSC measurements after reconnecting")

        # The host after it (a second bond: the owner opens the window) gets the data.
        await lab.press_button("left", BUTTON_S)
        host = Central(await connect(lab))
        await host.discover()
        await host.connection.pair()
        await host.subscribe()
        await until(lambda: len(host.data()) >= 20, "the host's data frames")
        heard.clear()
        await until(lambda: len(heard) >= 2, "RSC measurements beside the host")
        assert set(notified[address]) == {measurement.handle}, notified[address]
        assert data.handle not in notified[address]
        await connection.disconnect()
        await host.connection.disconnect()


async def test_a_central_that_never_pairs_gives_its_slot_back(
    tmp_path: Path, nimble_bin: str
) -> None:
    """Two centrals fill the insole (no more advertising): one that connects and never pairs
    is dropped after 30 insole seconds, so the insole advertises again for the watch."""
    lab = FirmwareBleLab(tmp_path, lab_specs(_traces()), clock_scale=CLOCK_SCALE,
                         micropython=nimble_bin)  # fmt: skip
    async with lab:
        host = Central(await connect(lab))
        await host.discover()
        await host.connection.pair()
        await host.subscribe()
        stranger = await second_central(lab, "stranger")  # connects, reads, never pairs
        await Peer(stranger).discover_services()
        await until(lambda: not _advertising(lab), "no advertising with two centrals")
        started_s = time.monotonic()
        gone: list[bool] = []
        stranger.on("disconnection", lambda _reason: gone.append(True))
        await until(lambda: gone, "the unpaired central dropped", timeout_s=60.0)
        waited_insole_s = (time.monotonic() - started_s) * CLOCK_SCALE
        assert 20.0 <= waited_insole_s <= 45.0, waited_insole_s  # 30 s, polled once a second
        await until(lambda: _advertising(lab), "advertising again for a second central")
        frames = len(host.data())
        await until(lambda: len(host.data()) > frames + 10, "the host still streaming")
        await host.connection.disconnect()
