"""Speed and memory of the gait-side stages: contact detector, activity windows, cadence.

Run by hand; prints markdown for docs/performance.md (## Analysis):

    python benchmarks/analysis_stages.py [--hours 1] [--memory-hours 0.5 4]

- throughput: a simulated two-foot session (`crossing_stops`: running, walking, stops) at
  100 Hz x 6 pads, in memory, in 60 s chunks (batch) and 1 s chunks; each stage alone; as
  times real time and as a ratio to one numpy pass (`np.sum` of every pad array);
- peak memory (tracemalloc) of simulating and running the three stages in 10 s chunks over
  sessions of different lengths, steps not kept: bounded means the same for every length.
"""

from __future__ import annotations

import argparse
import os
import tracemalloc
from collections.abc import Iterable

from analysis_common import print_throughput, simulated_chunks

from numbguard.analysis.activity import ActivityClassifier
from numbguard.analysis.cadence import CadenceTracker
from numbguard.analysis.gait import GaitTracker
from numbguard.pads import Foot
from numbguard.types import PressureChunk, StepMetrics


def gait(chunks: Iterable[PressureChunk]) -> list[StepMetrics]:
    tracker = GaitTracker()
    steps: list[StepMetrics] = []
    for chunk in chunks:
        steps += tracker.update(chunk)
    return steps + tracker.finish()


def activity(chunks: Iterable[PressureChunk]) -> None:
    classifiers: dict[Foot, ActivityClassifier] = {}
    for chunk in chunks:
        classifier = classifiers.setdefault(chunk.foot, ActivityClassifier(chunk.foot))
        classifier.update(chunk)


def all_stages(chunks: Iterable[PressureChunk]) -> None:
    """Gait, activity and cadence together, keeping nothing but the current state."""
    tracker = GaitTracker()
    classifiers: dict[Foot, ActivityClassifier] = {}
    cadence = CadenceTracker()
    for chunk in chunks:
        classifier = classifiers.setdefault(chunk.foot, ActivityClassifier(chunk.foot))
        classifier.update(chunk)
        cadence.update(tracker.update(chunk), now_s=float(chunk.t_s[-1]))
    cadence.update(tracker.finish())


_steps_of: dict[int, list[StepMetrics]] = {}


def cadence(chunks: list[PressureChunk]) -> None:
    """Cadence from the session's steps; the steps are found once per chunking and kept, so
    the best of the repeats times the cadence tracker alone."""
    steps = _steps_of.get(id(chunks))
    if steps is None:
        steps = _steps_of[id(chunks)] = gait(chunks)
    CadenceTracker().update(steps)


def throughput(hours: float) -> None:
    print_throughput(
        hours,
        [
            ("contact detector + step metrics", gait),
            ("activity windows", activity),
            ("cadence (from the steps)", cadence),
        ],
    )


def peak_memory(hours_list: list[float]) -> None:
    print("Peak memory, simulating and running the three stages in 10 s chunks:\n")
    print("| session | peak MB |")
    print("|---|---|")
    for hours in hours_list:
        tracemalloc.start()
        all_stages(simulated_chunks(hours, 10.0))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"| {hours:g} h | {peak / 1e6:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--memory-hours", type=float, nargs="+", default=[0.5, 4.0])
    args = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"Load average before the run: {load} ({os.cpu_count()} CPUs)\n")
    throughput(args.hours)
    peak_memory(args.memory_hours)


if __name__ == "__main__":
    main()
