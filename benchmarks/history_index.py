"""The session history: indexing a session when its run ends, listing a long history, and
comparing two long sessions.

Run by hand: ``python benchmarks/history_index.py [--minutes 60] [--rows 1000]``. It records
two simulated sessions (loose and tight laces, both insoles, 2% packet loss refilled by RESEND)
through the `sim` transport and the session runner, then times, best of three:

- indexing a run: the steps collected from the live run's chunks (`StepCollector.add`, spread
  over the run), then the row put at its end (what `numbguard run` adds after the session);
  and `SessionIndex.add`, the recording analysed again (`numbguard tag`, `history` on a new
  or changed file);
- `SessionIndex.sessions` over an index of `--rows` sessions, unfiltered and by lacing;
- the comparison of the two sessions: the block bootstrap of every metric, and the page.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from numbguard.analysis.pipeline import SessionResult
from numbguard.history.index import SessionIndex, row_for
from numbguard.history.page import write_comparison
from numbguard.history.sides import metric_differences, select_side
from numbguard.history.steps import StepCollector
from numbguard.history.tags import read_tags
from numbguard.live.recording_sink import RecordingSink
from numbguard.live.sink import ChunkListener
from numbguard.recording import Channel, RecordingWriter
from numbguard.session.live import run_session
from numbguard.session.runner import SessionRunner
from numbguard.transports.sim import from_url
from numbguard.types import PressureChunk


class TimedCollector(StepCollector):
    """A step collector that adds up the time its `add` calls take."""

    spent_s = 0.0

    def add(self, chunk: PressureChunk) -> None:
        start = time.perf_counter()
        super().add(chunk)
        self.spent_s += time.perf_counter() - start


def record(
    path: Path, scenario: str, duration_s: float, lacing: str
) -> tuple[SessionResult, TimedCollector]:
    url = f"sim://{scenario}?speed=max&duration_s={duration_s:g}&loss=0.02&seed=1"
    collector = TimedCollector()
    with RecordingWriter(path, {"source": url}, tags={"lacing": lacing}) as recorder:
        runner = SessionRunner(
            sinks=[RecordingSink(recorder, Channel.SIM), ChunkListener(collector.add)]
        )
        result = asyncio.run(run_session(from_url(url), runner))
    return result, collector


def best_of_three(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    duration_s = args.minutes * 60
    with tempfile.TemporaryDirectory() as folder:
        loose, tight = Path(folder) / "loose.ngrec", Path(folder) / "tight.ngrec"
        result, collector = record(loose, "normal_run", duration_s, "loose")
        record(tight, "tight_lacing_both", duration_s, "tight")
        with SessionIndex(Path(folder) / "index.sqlite3") as index:
            start = time.perf_counter()
            index.put(row_for(collector.session_steps(loose, result), read_tags(loose)))
            put_s = time.perf_counter() - start
            add_s = best_of_three(lambda: index.add(loose))
            row = index.sessions()[0]
            for k in range(args.rows):
                index.put(replace(row, path=f"/runs/{k}.ngrec", start_unix_s=row.start_unix_s + k,
                                  lacing=("loose", "tight")[k % 2]))  # fmt: skip
            list_s = best_of_three(index.sessions)
            filter_s = best_of_three(lambda: index.sessions(lacing="tight"))
        a = select_side(str(loose), None, name="A")
        b = select_side(str(tight), None, name="B")
        differences = metric_differences(a, b)
        bootstrap_s = best_of_three(lambda: metric_differences(a, b))
        page = Path(folder) / "compare.html"
        page_s = best_of_three(lambda: write_comparison(page, a, b, differences))
        steps = sum(d.steps_a for d in differences if d.metric == "lace_kpa")
        print(f"| what ({args.minutes:g} min sessions) | time |")
        print("|---|---|")
        print(f"| steps collected during the run (`StepCollector.add`, all chunks) | "
              f"{collector.spent_s:.2f} s |")  # fmt: skip
        print(f"| index row at the run's end (`row_for`, `put`) | {put_s * 1e3:.0f} ms |")
        print(f"| index a recording from its file (`SessionIndex.add`) | {add_s:.2f} s |")
        print(f"| list {args.rows + 1} sessions / by lacing | {list_s * 1e3:.1f} / "
              f"{filter_s * 1e3:.1f} ms |")  # fmt: skip
        print(f"| block bootstrap, {len(differences)} metrics, {steps} steps a side | "
              f"{bootstrap_s:.2f} s |")  # fmt: skip
        print(f"| comparison page (figure and HTML) | {page_s:.2f} s, "
              f"{page.stat().st_size / 1e3:.0f} kB |")  # fmt: skip


if __name__ == "__main__":
    main()
