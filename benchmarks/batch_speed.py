"""Batch analysis speed: analyze, report and export of a recording and of a CSV, side by side.

Run by hand; prints markdown for docs/performance.md (## Batch analysis):

    python benchmarks/batch_speed.py [--minutes 60] [--repeats 3]

It records a simulated two-foot session (100 Hz x 6 pads, tight lacing from mid-run, 2%
radio loss refilled by RESEND) through the live session runner, exports it as interchange
CSV, then times the commands in this process (`numbguard.cli.main`, output to files or
/dev/null), best of `--repeats`, in CPU time (`process_time`: other load on a shared machine
counts less) and wall time. Beside them: the live replay (`replay_recording`, frame by frame)
and one numpy pass (`np.sum` over every pad array) over the same decoded samples.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from numbguard.cli import main as cli_main
from numbguard.live.recording_sink import RecordingSink
from numbguard.recording import Channel, RecordingWriter
from numbguard.session.bulk_replay import bulk_chunks, takes_bulk_path
from numbguard.session.live import run_session
from numbguard.session.replay import replay_recording
from numbguard.session.runner import SessionRunner
from numbguard.transports.sim import from_url


def record(path: Path, duration_s: float) -> None:
    url = f"sim://tight_lacing?speed=max&duration_s={duration_s:g}&loss=0.02&seed=1"
    with RecordingWriter(path, {"source": url}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder, Channel.SIM)])
        asyncio.run(run_session(from_url(url), runner))


def best(repeats: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best CPU and best wall seconds of `work`."""
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        work()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return min(cpu), min(wall)


def command(*args: str) -> Callable[[], object]:
    def run() -> None:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            assert cli_main(list(args)) == 0, args

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    duration_s = args.minutes * 60
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        rec, csv = folder / "session.ngrec", folder / "session.csv"
        record(rec, duration_s)
        command("export", str(rec), "--csv", str(csv))()
        chunks = list(bulk_chunks(rec))

        def numpy_pass() -> None:
            for chunk in chunks:
                for values in chunk.pressure_kpa.values():
                    np.sum(values)

        out = folder / "out"
        paths: list[tuple[str, Callable[[], object]]] = [
            ("one numpy pass over the decoded samples", numpy_pass),
            ("live replay, frame by frame (`replay_recording`)", lambda: replay_recording(rec)),
        ]
        for name, source in (("recording", rec), ("CSV", csv)):
            paths += [
                (f"`analyze --json`, {name}", command("analyze", str(source), "--json")),
                (f"`report`, {name}", command("report", str(source), "-o", f"{out}.html")),
                (
                    f"`export --steps`, {name}",
                    command("export", str(source), "--steps", f"{out}.s"),
                ),
                (f"`export --fit`, {name}", command("export", str(source), "--fit", f"{out}.fit")),
            ]
        paths.append(
            ("`export --csv`, recording", command("export", str(rec), "--csv", f"{out}.c"))
        )
        load_before = os.getloadavg()
        rows = [(name, *best(args.repeats, work)) for name, work in paths]
        load_after = os.getloadavg()
        floor_cpu_s = rows[0][1]
        print(
            f"{args.minutes:g} min two-foot session, 100 Hz x 6 pads: recording"
            f" {rec.stat().st_size / 1e6:.1f} MB (bulk path: {takes_bulk_path(rec)}),"
            f" CSV {csv.stat().st_size / 1e6:.1f} MB; best of {args.repeats};"
            f" {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before,"
            f" {load_after[0]:.1f} after\n"
        )
        print("| path | CPU s | x real time (CPU) | wall s | x real time (wall) | x numpy pass |")
        print("|---|---|---|---|---|---|")
        for name, cpu_s, wall_s in rows:
            print(
                f"| {name} | {cpu_s:.3f} | {duration_s / cpu_s:,.0f} | {wall_s:.3f}"
                f" | {duration_s / wall_s:,.0f} | {cpu_s / floor_cpu_s:,.0f} |"
            )


if __name__ == "__main__":
    main()
