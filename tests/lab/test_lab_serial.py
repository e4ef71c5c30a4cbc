"""The serial path of the lab: both insoles' real firmware (MicroPython unix port, unchanged
`firmware/main.py`) on ptys, through the host's pyserial transport into `SessionRunner`.

The pads are driven by a simulated session; each ADC read takes the next row of its trace,
so firmware sample j holds trace row j and every received value can be checked. The insole
clocks run 10 times fast (the simulated `time`), so five minutes of session take about 30 s.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.analysis.risk.config import RiskConfig
from numbguard.calibration import esp32_adc
from numbguard.deploy.bundle import default_firmware_dir
from numbguard.live.recording_sink import RecordingSink
from numbguard.pads import Foot
from numbguard.protocol.codec import decode_frame
from numbguard.protocol.constants import T_FIRST_MODULO
from numbguard.protocol.decoder import SerialFrameDecoder
from numbguard.protocol.frames import DataFrame
from numbguard.recording import Channel, RecordingReader, RecordingWriter
from numbguard.recording.reader import FrameRecord, JsonRecord
from numbguard.session.runner import SessionRunner
from numbguard.types import Alert
from numbguard_lab.firmware_runner import FirmwareProcess, LineFaults, SerialLine
from numbguard_lab.serial_lab import INSOLE_IDS, LabRun, lab_spec, run_serial_lab
from numbguard_lab.traces import PadTrace, file_traces, scenario_traces

CLOCK_SCALE = 10
RATE_HZ = 100


def offline_alerts(traces: dict[Foot, PadTrace]) -> list[Alert]:
    """The analysis of the same kPa traces, fed as a file would be (both feet, 1 s chunks)."""
    analyzer = SessionAnalyzer()
    n = min(len(trace.counts) for trace in traces.values())
    for first in range(0, n, RATE_HZ):
        for trace in traces.values():
            analyzer.feed(trace.chunk(first, min(first + RATE_HZ, n)))
    return list(analyzer.finish().alerts)


async def lab_session(
    traces: dict[Foot, PadTrace], tmp_path: Path, micropython: str, duration_s: float, **kwargs
) -> tuple[LabRun, Path]:
    path = tmp_path / "session.ngrec"
    with RecordingWriter(path, {"source": "lab"}) as recorder:
        runner = SessionRunner(
            session_start_s=time.monotonic(), sinks=[RecordingSink(recorder, Channel.SERIAL)]
        )
        run = await run_serial_lab(
            traces,
            tmp_path,
            runner,
            duration_s=duration_s,
            clock_scale=CLOCK_SCALE,
            micropython=micropython,
            **kwargs,
        )
    return run, path


def frame_key(frame: DataFrame) -> tuple[int, int, bytes]:
    """What a data frame carries, whichever copy (a resent copy's header may differ)."""
    return frame.seq, frame.t_first_us, frame.samples.tobytes()


def recorded_data(path: Path, foot: Foot, run: LabRun) -> dict[tuple[int, int, bytes], DataFrame]:
    """The data frames recorded for `foot`, each once, in sequence order."""
    index = run.runner.tracks[foot].index
    frames: dict[tuple[int, int, bytes], DataFrame] = {}
    for record in RecordingReader(path).records():
        if isinstance(record, FrameRecord) and record.insole_index == index:
            frame = decode_frame(record.data)
            if isinstance(frame, DataFrame):
                frames.setdefault(frame_key(frame), frame)
    return dict(sorted(frames.items(), key=lambda item: item[1].seq))


def trace_time_s(run: LabRun, foot: Foot, frames: list[DataFrame], t_s: float) -> float:
    """Where session time `t_s` of the host's grid is in the trace: the grid counts slots the
    firmware skipped when a sample came a whole period late; the trace counts samples taken."""
    track = run.runner.tracks[foot]
    assert track.t0_s is not None
    slot = round((t_s - track.t0_s) * RATE_HZ)
    taken_before = 0
    frame_slot = 0
    for previous, frame in zip([frames[0], *frames], frames, strict=False):
        # Frames are under 16.78 s apart: the 24-bit time's difference unwraps it.
        frame_slot += round(
            (frame.t_first_us - previous.t_first_us) % T_FIRST_MODULO * RATE_HZ / 1e6
        )
        if frame_slot >= slot:
            break
        taken_before += frame.n_sets
    return taken_before / RATE_HZ


async def test_five_minute_tight_lacing_run_with_garbage_on_the_lines(
    tmp_path: Path, micropython_bin: str
) -> None:
    duration_s = 300.0
    traces = scenario_traces("tight_lacing", duration_s, rate_hz=RATE_HZ)
    noise = {
        foot: LineFaults(
            burst_every_s=0.05,
            corrupt_fraction=0.005,
            cut_fraction=0.005,
            seed=i,
            to_insole_burst_every_s=0.1,
        )
        for i, foot in enumerate(traces)
    }
    # The right insole's crystal runs 80 ppm fast: the host's clock alignment takes it.
    run, path = await lab_session(
        traces, tmp_path, micropython_bin, duration_s, faults=noise, clock_ppm={"right": 80}
    )
    assert run.drained, "the last frames never came"

    for foot, trace in traces.items():
        firmware, line = run.firmware[foot], run.lines[foot]
        stream = run.runner.tracks[foot].stream
        assert firmware.stderr_text == ""
        # The line was damaged, and the host dropped the garbage ...
        assert line.stats.bursts > 100 and line.stats.corrupted + line.stats.cut > 5
        assert run.transport.decoders[line.path].rejected_total > line.stats.bursts
        # Bursts went to the firmware too, between the host's RESEND requests: all answered.
        assert line.stats.bursts_to_insole >= 1
        # ... every frame that crossed it intact was decoded and recorded ...
        intact = [
            frame_key(decoded.frame)
            for packet in line.stats.intact
            for decoded in SerialFrameDecoder().feed_raw(packet)
            if isinstance(decoded.frame, DataFrame)
        ]
        recorded = recorded_data(path, foot, run)
        assert intact and set(intact) <= set(recorded)
        frames = list(recorded.values())
        # ... and the damaged ones came again through RESEND: late, not lost.
        assert stream.stats.late >= 1 and stream.stats.lost == 0
        assert stream.missing() == 0
        # Every sample the firmware took is in the recording, in order, with its values.
        taken = firmware.samples_taken()
        assert sum(f.n_sets for f in frames) == taken
        assert [f.seq for f in frames] == list(range(len(frames)))
        values = np.concatenate([f.samples for f in frames])
        # as the pads read the trace through the simulated chip (esp32_adc): noise included
        read = trace.read_by(firmware.spec.adc(), firmware.firmware_dir, 0, taken)
        assert np.array_equal(values, read)
        # The whole run was sampled, less the slots skipped by late samples (up to ~9% at x10
        # on a busy machine, docs/performance.md ## Lab).
        assert taken >= 0.75 * duration_s * RATE_HZ

    # The alerts are the offline analysis's: the same kinds on the same feet, reaching the same
    # severity, first raised at times within one analysis window (windows start at each
    # stream's first sample, so their edges can differ from the file's by up to a window) once
    # mapped onto the trace (see trace_time_s). Slots the firmware skipped at x10 on a busy
    # machine are missing samples the file does not have, so a dose can cross its limit a
    # window later: a `warning` may come before the `alert` live where the file goes straight
    # to `alert`.
    window_s = RiskConfig().window_s
    expected = offline_alerts(traces)
    got = list(run.result.alerts) if run.result else []
    assert any(a.kind == "tight_lacing" and a.foot == "left" for a in expected)
    assert worst_severity(got) == worst_severity(expected)
    for key, offline_t_s in first_raised(expected).items():
        online_t_s = first_raised(got)[key]
        frames = list(recorded_data(path, key[1], run).values())
        assert abs(trace_time_s(run, key[1], frames, online_t_s) - offline_t_s) <= window_s + 2.0


SEVERITY_RANK = {"info": 0, "warning": 1, "alert": 2}


def worst_severity(alerts: list[Alert] | tuple[Alert, ...]) -> dict[tuple[str, str], str]:
    """The highest severity each (kind, foot) reached."""
    worst: dict[tuple[str, str], str] = {}
    for alert in alerts:
        key = (alert.kind, alert.foot)
        if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[worst.get(key, "info")]:
            worst[key] = alert.severity
    return worst


def first_raised(alerts: list[Alert] | tuple[Alert, ...]) -> dict[tuple[str, str], float]:
    """When each (kind, foot) was first raised (a warning or an alert)."""
    first: dict[tuple[str, str], float] = {}
    for alert in sorted(alerts, key=lambda a: a.t_s):
        if alert.severity != "info":
            first.setdefault((alert.kind, alert.foot), alert.t_s)
    return first


async def test_a_watchdog_reset_mid_run_is_noticed_and_recorded_as_a_gap(
    tmp_path: Path, micropython_bin: str
) -> None:
    duration_s, reset_at_s = 60.0, 25.0
    traces = scenario_traces("walking", duration_s, rate_hz=RATE_HZ)
    run, path = await lab_session(
        traces, tmp_path, micropython_bin, duration_s, resets_at_s={"left": reset_at_s}
    )
    left, right = run.runner.tracks["left"], run.runner.tracks["right"]
    firmware = run.firmware["left"]
    assert firmware.boots == 2 and firmware.stderr_text == ""

    # The host noticed: a new boot id in status page 0, one reset, a gap of reason "reset".
    boot_ids = [
        record.value["boot_id"]
        for record in RecordingReader(path).records()
        if isinstance(record, JsonRecord)
        and record.value.get("event") == "identity"
        and record.value["foot"] == "left"
    ]
    assert len(set(boot_ids)) == 2, boot_ids
    assert left.stream.stats.resets == 1 and right.stream.stats.resets == 0
    assert [gap.reason for gap in left.stream.gaps].count("reset") == 1
    # The reboot's time is on the grid as missing samples, released at once (nothing can fill
    # it), and the rest carries on.
    assert left.assembler.stats.samples_skipped > 0
    assert left.assembler.stats.samples_released >= 0.9 * duration_s * RATE_HZ

    # The second boot streamed from its first sample: every one it took, with the values of
    # the trace from where the foot was when it came back.
    events = [e for e in run.data_events if e.foot == "left"]
    restart = max(i for i, e in enumerate(events) if e.frame.seq == 0)
    second: dict[bytes, DataFrame] = {}
    for event in events[restart:]:
        assert isinstance(event.frame, DataFrame)
        second.setdefault(event.raw, event.frame)
    frames = sorted(second.values(), key=lambda f: f.seq)
    taken = firmware.samples_taken()
    assert [f.seq for f in frames] == list(range(len(frames)))
    assert sum(f.n_sets for f in frames) == taken > 0.5 * (duration_s - reset_at_s) * RATE_HZ
    values = np.concatenate([f.samples for f in frames])
    trace = traces["left"]
    start = firmware.start_row
    read = trace.read_by(firmware.spec.adc(), firmware.firmware_dir, start, start + taken)
    assert np.array_equal(values, read)
    assert firmware.start_row >= reset_at_s * RATE_HZ


def test_numbguard_run_streams_both_lab_insoles_and_records_them(
    tmp_path: Path, micropython_bin: str
) -> None:
    traces = scenario_traces("normal_run", 30.0, rate_hz=RATE_HZ)
    recording = tmp_path / "run.ngrec"
    with contextlib.ExitStack() as stack:
        paths = []
        for foot, trace in traces.items():
            process = FirmwareProcess(
                lab_spec(foot, trace), tmp_path / foot, micropython=micropython_bin
            )
            paths.append(stack.enter_context(SerialLine(stack.enter_context(process))).path)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "numbguard",
                "run",
                "serial://" + ",".join(paths),
                "--json",
                "--record",
                str(recording),
                "--duration-s",
                "4",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    last_state = [e for e in events if e["event"] == "state"][-1]
    for foot in ("left", "right"):
        state = last_state["feet"][foot]
        # The plain unix port has no `bluetooth`: the firmware packs frames for serial's MTU,
        # many sets each (about 4 frames a second; the samples are counted below).
        assert state["connected"] and state["frames_received"] > 10
        assert state["frames_missing"] == 0
    summary = events[-1]
    assert summary["event"] == "summary"
    assert 150 < summary["result"]["cadence_spm"] < 190  # the scenario runs at 170 steps/min
    identities = {
        record.value["foot"]: record.value["insole_id"]
        for record in RecordingReader(recording).records()
        if isinstance(record, JsonRecord) and record.value.get("event") == "identity"
    }
    assert identities == {foot: INSOLE_IDS[foot] for foot in traces}
    # The recording drives lab insoles in turn: its kPa give back the counts sampled, a stretch
    # of the trace from where the port was opened (opening a port drops what waited in it).
    # Half a second of it: later, a sample slot the firmware skipped would shift the grid.
    # The recording holds what the pads read through the simulated chip (esp32_adc).
    replayed = file_traces(recording)
    for foot, trace in traces.items():
        counts = replayed[foot].counts[: RATE_HZ // 2]
        assert len(replayed[foot].counts) > 300
        read = trace.read_by(esp32_adc.Part(esp32_adc.DEFAULT_PART), default_firmware_dir())
        errors = [
            np.abs(counts - read[k : k + len(counts)]).max() for k in range(len(read) - len(counts))
        ]
        assert min(errors) <= 1
