"""What the analysis benchmarks share: the simulated session, CPU timing, the numpy floor."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from numbguard.simulate import SessionSimulator, build_scenario
from numbguard.types import PressureChunk

SCENARIO = "crossing_stops"  # running, walking and stops: every gait the analysis meets


def simulated_chunks(hours: float, chunk_s: float) -> Iterator[PressureChunk]:
    """A two-foot session at 100 Hz x 6 pads, simulated as it is read (memory stays flat)."""
    return SessionSimulator(build_scenario(SCENARIO, hours * 3600.0), seed=0).chunks(chunk_s)


def simulated_session(hours: float, chunk_s: float) -> list[PressureChunk]:
    """The same session held in memory, so timing measures the analysis alone."""
    return list(simulated_chunks(hours, chunk_s))


def best_cpu_s(repeats: int, work: Callable[[], object]) -> float:
    """Best CPU time (process time: robust to other load on a shared machine) of `work`."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def numpy_pass(chunks: list[PressureChunk]) -> None:
    """One `np.sum` over every pad array: the floor any analysis of the data pays."""
    for chunk in chunks:
        for values in chunk.pressure_kpa.values():
            np.sum(values)


def print_throughput(
    hours: float, stages: list[tuple[str, Callable[[list[PressureChunk]], object]]]
) -> None:
    """A markdown table: each stage on the session in 60 s and 1 s chunks, best of 3."""
    duration_s = hours * 3600.0
    print(f"Throughput, {hours:g} h two-foot session at 100 Hz x 6 pads (CPU s, best of 3):\n")
    print("| chunks | stage | CPU s | x real time | x one numpy pass |")
    print("|---|---|---|---|---|")
    for chunk_s in (60.0, 1.0):
        chunks = simulated_session(hours, chunk_s)
        floor_s = best_cpu_s(3, lambda c=chunks: numpy_pass(c))
        for name, stage in stages:
            seconds = best_cpu_s(3, lambda s=stage, c=chunks: s(c))
            print(
                f"| {chunk_s:g} s | {name} | {seconds:.3f} | {duration_s / seconds:,.0f} "
                f"| {seconds / floor_s:,.0f} |"
            )
    print()
