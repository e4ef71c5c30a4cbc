"""Replay of a recorded session as fast as possible, and the live path's per-frame latency.

Run by hand: ``python benchmarks/session_replay.py [--minutes 60]``. It records a simulated
session (both insoles, tight lacing from mid-run, 2% packet loss refilled by RESEND) through
the `sim` transport and the session runner, then:

- replays the recording through `replay_recording` (decoder, stream, clock alignment, sample
  assembler, calibration, analysis) and reports x real time;
- times `SessionRunner.on_event` per frame on the replay: the host's processing latency from a
  frame's arrival to the alert decision it allows (p50, p99, max). The analysis sees a sample
  once the assembler releases it, `DEFAULT_HOLD_S` after arrival (longer while a gap waits for
  a resend), so the end-to-end decision latency is that hold plus this processing time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from numbguard.live.recording_sink import RecordingSink
from numbguard.recording import Channel, RecordingReader, RecordingWriter
from numbguard.session.assembler import DEFAULT_HOLD_S
from numbguard.session.live import run_session
from numbguard.session.replay import recorded_calibrations, replay_recording
from numbguard.session.runner import SessionRunner
from numbguard.transports.recorded_events import replay_events
from numbguard.transports.sim import from_url


def record(path: Path, duration_s: float) -> float:
    url = f"sim://tight_lacing?speed=max&duration_s={duration_s:g}&loss=0.02&seed=1"
    start = time.perf_counter()
    with RecordingWriter(path, {"source": url}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder, Channel.SIM)])
        asyncio.run(run_session(from_url(url), runner))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    duration_s = args.minutes * 60
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.ngrec"
        record_s = record(path, duration_s)
        size_mb = path.stat().st_size / 1e6
        best_s = min(_timed(lambda: replay_recording(path)) for _ in range(3))
        latencies_s = []
        runner = SessionRunner(calibrations=recorded_calibrations(path))
        for event in replay_events(RecordingReader(path)):
            start = time.perf_counter()
            runner.on_event(event)
            latencies_s.append(time.perf_counter() - start)
        runner.finish()
    lat_ms = np.array(latencies_s) * 1e3
    print(
        f"session: {args.minutes:g} min simulated, recorded in {record_s:.1f} s, {size_mb:.1f} MB"
    )
    print("| what | figure |")
    print("|---|---|")
    speed = duration_s / best_s
    print(f"| replay as fast as possible, {args.minutes:g} min | {best_s:.2f} s, {speed:,.0f} x |")
    print(f"| frames replayed | {len(lat_ms):,} |")
    p50, p99 = np.percentile(lat_ms, [50, 99])
    print(
        f"| per-frame processing p50 / p99 / max | {p50:.3f} / {p99:.3f} / {lat_ms.max():.1f} ms |"
    )
    print(f"| assembler hold before analysis | {DEFAULT_HOLD_S * 1e3:.0f} ms |")


def _timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
