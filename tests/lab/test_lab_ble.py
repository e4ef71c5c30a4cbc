"""The real firmware, under MicroPython, over the virtual BLE radio into the host's pipeline.

Two firmware processes on the real BLE stack (MicroPython's NimBLE `bluetooth`; left and
right, own ids, addresses and clock offsets, clock sped up) pair with the host and stream a
tight-lacing onset over the virtual radio to the host's real `BleakClient` and BLE transport,
into a `SessionRunner` that records. The alerts must equal those of the same trace analysed
offline, and the recording must hold every sample the firmware took, even
with 10 % of notifications lost and two 3 s link drops.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pytest

from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.deploy.bundle import default_firmware_dir
from numbguard.errors import InputError
from numbguard.live.recording_sink import RecordingSink
from numbguard.live.state import LiveState
from numbguard.pads import Foot
from numbguard.protocol.codec import decode_frame
from numbguard.protocol.frames import DataFrame
from numbguard.recording import Channel, RecordingWriter
from numbguard.recording.reader import FrameRecord, RecordingReader
from numbguard.session.runner import SessionRunner
from numbguard.types import Alert
from numbguard_lab.ble_lab import BleLabRun, FirmwareBleLab, lab_specs, run_ble_lab
from numbguard_lab.radio_link import RadioFaults
from numbguard_lab.traces import PadTrace, scenario_traces

# Insole seconds; the onset is at 0.375 of the run.
TIGHT_LACING_S = 300.0  # the whole-system run: five minutes
FAULTS_S = 120.0  # long enough for two drops and the recoveries after them
CLOCK_SCALE = 5  # faster starves resends on 2 cores: the ring (31 s) expires first


@functools.cache
def _traces(duration_s: float) -> dict[Foot, PadTrace]:
    return scenario_traces("tight_lacing", duration_s, seed=3)


async def _run(
    tmp_path: Path, traces: dict[Foot, PadTrace], micropython: str, duration_s: float,
    faults: dict[Foot, RadioFaults] | None = None, clock_ppm: dict[Foot, int] | None = None,
) -> tuple[BleLabRun, Path]:  # fmt: skip
    recording = tmp_path / "session.ngr"
    lab = FirmwareBleLab(
        tmp_path / "flash", lab_specs(traces, clock_ppm), faults=faults, clock_scale=CLOCK_SCALE,
        micropython=micropython,
    )  # fmt: skip
    with RecordingWriter(recording, {"source": "ble lab"}) as recorder:
        runner = SessionRunner(
            session_start_s=time.monotonic(),
            sinks=[RecordingSink(recorder, Channel.BLE), LiveState()],
        )
        run = await run_ble_lab(lab, runner, duration_s=duration_s)
    return run, recording


def _recorded_samples(recording: Path) -> dict[Foot, tuple[int, np.ndarray]]:
    """Per foot: the first sequence number, and the samples of every data frame in the
    recording, once each, in sequence order."""
    frames: dict[Foot, dict[int, DataFrame]] = {}
    for record in RecordingReader(recording).records():
        if isinstance(record, FrameRecord):
            frame = decode_frame(record.data)
            if isinstance(frame, DataFrame):
                frames.setdefault(frame.foot, {})[frame.seq] = frame
    samples: dict[Foot, tuple[int, np.ndarray]] = {}
    for foot, by_seq in frames.items():
        seqs = sorted(by_seq)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{foot}: a frame is missing"
        samples[foot] = seqs[0], np.concatenate([by_seq[seq].samples for seq in seqs])
    return samples


def _offline_alerts(traces: dict[Foot, PadTrace], spans: dict[Foot, tuple[int, int]]
                    ) -> tuple[Alert, ...]:  # fmt: skip
    """The alerts of analysing the trace rows the host received, as a file."""
    analyzer = SessionAnalyzer()
    for foot, trace in traces.items():
        analyzer.feed(trace.chunk(*spans[foot]))
    return analyzer.finish().alerts


def _what(alerts: tuple[Alert, ...] | list[Alert]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return sorted((a.foot, a.kind, str(a.severity), a.pads) for a in alerts)


def _assert_whole_and_same_alerts(
    run: BleLabRun, recording: Path, traces: dict[Foot, PadTrace], duration_s: float
) -> None:
    recorded = _recorded_samples(recording)
    spans: dict[Foot, tuple[int, int]] = {}
    for foot, trace in traces.items():
        taken = run.samples_taken[foot]
        assert taken > 0.8 * duration_s * trace.rate_hz  # the insole sampled the whole run
        # Every sample the firmware took since it booted, in order, exactly as its pads read
        # it. Before its BLE link is up the firmware streams over USB serial (nobody listens
        # there in this lab), and the frames it sends on connecting, before the host
        # subscribed, reach no one: the host asks for them from the ring on its first frame.
        first_seq, samples = recorded[foot]
        assert first_seq == 0
        head = taken - len(samples)
        assert head == 0
        spec = next(s for s in run.lab.specs if s.foot == foot)
        read = trace.read_by(spec.adc(), default_firmware_dir(), head, taken)  # through its chip
        np.testing.assert_array_equal(samples, read)
        spans[foot] = head, taken
        assert run.runner.tracks[foot].stream.missing() == 0
    assert run.result is not None
    live = _what(run.result.alerts)
    assert [(foot, kind) for foot, kind, _, _ in live] == [("left", "tight_lacing")]
    assert live == _what(_offline_alerts(traces, spans))


async def test_tight_lacing_over_ble_alerts_as_offline_and_records_every_sample(
    tmp_path: Path, nimble_bin: str
) -> None:
    traces = _traces(TIGHT_LACING_S)
    run, recording = await _run(tmp_path, traces, nimble_bin, TIGHT_LACING_S)
    _assert_whole_and_same_alerts(run, recording, traces, TIGHT_LACING_S)
    assert run.lab.radio is not None
    for foot, radio in run.lab.radios.items():
        assert run.transport.links[radio.address].att_mtu == 247  # acquired as on BlueZ
        assert radio.counters.connections == 1
        assert run.lab.radio.pairings[radio.address] == 1, foot
    # Only the frames from before the host subscribed came late (asked for from the ring).
    for foot in traces:
        on_time = [e.frame.seq for e in run.data_events if not e.late and e.foot == foot]
        late = [e.frame.seq for e in run.data_events if e.late and e.foot == foot]
        assert late and max(late) < min(on_time)


async def test_lost_notifications_link_drops_and_skewed_clocks_lose_no_sample(
    tmp_path: Path, nimble_bin: str
) -> None:
    traces = _traces(FAULTS_S)
    drops = ((30.0, 3.0), (75.0, 3.0))
    faults = {
        foot: RadioFaults(notify_loss=0.10, link_drops=drops, seed=i)
        for i, foot in enumerate(traces)
    }
    # Crystals off in both directions as well: the host puts both feet on one timeline.
    skew_ppm: dict[Foot, int] = {"left": -150, "right": 200}
    run, recording = await _run(tmp_path, traces, nimble_bin, FAULTS_S, faults, skew_ppm)
    _assert_whole_and_same_alerts(run, recording, traces, FAULTS_S)
    assert run.lab.radio is not None
    for foot, radio in run.lab.radios.items():
        counters = radio.counters
        assert counters.notifications_lost >= 10, (foot, counters)
        assert counters.link_drops == 2 and counters.connections == 3, (foot, counters)
        # Paired once; both reconnections re-encrypted from the stored bond.
        assert run.lab.radio.pairings[radio.address] == 1, foot
    late = [event for event in run.data_events if event.late]
    assert late, "frames recovered by RESEND arrive late"
    for foot in traces:
        shown = next(sink for sink in run.runner.sinks if isinstance(sink, LiveState))
        state = shown.feet[foot]
        assert state.frames_recovered > 0 and state.frames_missing == 0


def test_bad_fault_scripts_are_refused_saying_what_was_expected() -> None:
    with pytest.raises(InputError, match="a share from 0 to below 1") as raised:
        RadioFaults(notify_loss=1.5)
    assert "1.5" in str(raised.value)
    with pytest.raises(InputError, match="at_s >= 0, for_s > 0"):
        RadioFaults(link_drops=((10.0, 0.0),))
    with pytest.raises(InputError, match="stall"):
        RadioFaults(stalls=((-1.0, 2.0),))
