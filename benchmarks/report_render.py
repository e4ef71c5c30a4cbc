"""Writing the HTML report of a long session: the analysis, the per-step metrics and each figure.

Run by hand: ``python benchmarks/report_render.py [--minutes 60]``. It records a simulated
session the way `session_replay.py` does (tight lacing from mid-run, 2% packet loss), then
times what `numbguard report` does with it: the replay with every chunk kept
(`analyse_session`), the per-step metrics (`session_steps`), each figure and the whole
`write_report`, best of three.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from session_replay import record

from numbguard.report import SessionSeries, plots, write_report
from numbguard.report.html import session_steps
from numbguard.session.sources import analyse_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.ngrec"
        record(path, args.minutes * 60)
        series = SessionSeries()
        start = time.perf_counter()
        result, _ = analyse_session(path, on_chunk=series.add)
        analyse_s = time.perf_counter() - start
        result_json = result.to_json()
        arrays = series.arrays()
        steps = session_steps(series)
        alerts = result_json["alerts"]
        contacts = {
            foot: [(float(on), float(off)) for on, off in summary["contacts"]]
            for foot, summary in result_json["feet"].items()
        }
        span_s = plots.session_span_s(arrays)
        page = Path(folder) / "report.html"
        timings: list[tuple[str, Callable[[], object]]] = [
            ("per-step metrics (`session_steps`)", lambda: session_steps(series)),
            ("pressure figure", lambda: plots.pressure_over_time(arrays, alerts, steps)),
            ("per-step figure (short sessions only)", lambda: plots.per_step(steps, span_s)),
            ("cadence and contact figure", lambda: plots.cadence_and_contact(contacts, span_s)),
            ("whole `write_report`", lambda: write_report(page, result_json, series)),
        ]
        mode = "per step" if plots.draws_steps(arrays) else "per-sample trace"
        print(f"session: {args.minutes:g} min, pressure plot {mode}")
        print("| what | time |")
        print("|---|---|")
        print(f"| replay keeping every chunk (`analyse_session`) | {analyse_s:.2f} s |")
        for name, work in timings:
            print(f"| {name} | {min(_timed(work) for _ in range(3)):.2f} s |")
        size_kb = page.stat().st_size / 1e3
        print(f"| HTML page | {size_kb:,.0f} kB |")


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
