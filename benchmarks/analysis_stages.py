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
import time
import tracemalloc
from collections.abc import Callable, Iterable

import numpy as np

from numbguard.analysis.activity import ActivityClassifier
from numbguard.analysis.cadence import CadenceTracker
from numbguard.analysis.gait import GaitTracker
from numbguard.analysis.types import PressureChunk, StepMetrics
from numbguard.pads import Foot
from numbguard.simulate import SessionSimulator, build_scenario


def simulated(hours: float, chunk_s: float) -> Iterable[PressureChunk]:
    return SessionSimulator(build_scenario("crossing_stops", hours * 3600.0), seed=0).chunks(
        chunk_s
    )


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


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


def numpy_pass(chunks: list[PressureChunk]) -> None:
    for chunk in chunks:
        for values in chunk.pressure_kpa.values():
            np.sum(values)


def throughput(hours: float) -> None:
    duration_s = hours * 3600.0
    print(f"Throughput, {hours:g} h two-foot session at 100 Hz x 6 pads (best of 3):\n")
    print("| chunks | stage | time s | x real time | x one numpy pass |")
    print("|---|---|---|---|---|")
    for chunk_s in (60.0, 1.0):
        chunks = list(simulated(hours, chunk_s))
        floor_s = best_of(3, lambda c=chunks: numpy_pass(c))
        steps = gait(chunks)
        stages: list[tuple[str, Callable[[], object]]] = [
            ("contact detector + step metrics", lambda c=chunks: gait(c)),
            ("activity windows", lambda c=chunks: activity(c)),
            ("cadence (from the steps)", lambda s=steps: CadenceTracker().update(s)),
        ]
        for name, work in stages:
            seconds = best_of(3, work)
            print(
                f"| {chunk_s:g} s | {name} | {seconds:.3f} | {duration_s / seconds:,.0f} "
                f"| {seconds / floor_s:,.1f} |"
            )
    print()


def peak_memory(hours_list: list[float]) -> None:
    print("Peak memory, simulating and running the three stages in 10 s chunks:\n")
    print("| session | peak MB |")
    print("|---|---|")
    for hours in hours_list:
        tracemalloc.start()
        all_stages(simulated(hours, 10.0))
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
