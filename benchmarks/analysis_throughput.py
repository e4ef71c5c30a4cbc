"""Analysis speed and memory: the session analyzer (gait + risk) on simulated sessions.

Run by hand; prints markdown for docs/performance.md (## Analysis):

    python benchmarks/analysis_throughput.py [--hours 1] [--memory-hours 0.5 4]

- throughput: a two-foot session at 100 Hz x 6 pads, in memory, fed in 60 s chunks (batch
  mode) and in 1 s chunks, through the whole `SessionAnalyzer`, the gait stage alone and the
  risk stage alone; as times real time, and as a ratio to one numpy pass over the same data
  (`np.sum` of every pad array: the floor any analysis of the data pays);
- peak memory (tracemalloc) of simulating and analysing sessions of different lengths in
  10 s chunks, without keeping the contact list: bounded means the same for every length;
- live latency: the time of each `feed` of a 0.1 s chunk (10 samples), alternating feet.

Throughput is CPU time (`time.process_time`), so other load on the machine does not count;
live latency is wall time, as a live session sees it.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from analysis_common import print_throughput, simulated_chunks, simulated_session

from numbguard.analysis.gait import ContactDetector
from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.analysis.risk import FootRiskEngine
from numbguard.pads import Foot
from numbguard.types import PressureChunk


def full(chunks: list[PressureChunk]) -> None:
    analyzer = SessionAnalyzer(keep_contacts=False)
    for chunk in chunks:
        analyzer.feed(chunk)
    analyzer.finish()


def gait_only(chunks: list[PressureChunk]) -> None:
    detectors: dict[Foot, ContactDetector] = {f: ContactDetector(f) for f in ("left", "right")}
    for chunk in chunks:
        detectors[chunk.foot].update(chunk)
    for detector in detectors.values():
        detector.finish()


def risk_only(chunks: list[PressureChunk]) -> None:
    engines: dict[Foot, FootRiskEngine] = {f: FootRiskEngine(f) for f in ("left", "right")}
    for chunk in chunks:
        engines[chunk.foot].feed(chunk)
    for engine in engines.values():
        engine.finish()


def throughput(hours: float) -> None:
    print_throughput(hours, [("whole analyzer", full), ("gait", gait_only), ("risk", risk_only)])


def peak_memory(hours_list: list[float]) -> None:
    print("Peak memory, simulating and analysing in 10 s chunks (tracemalloc):\n")
    print("| session | peak MB |")
    print("|---|---|")
    for hours in [0.02, *hours_list]:  # a short first run takes the one-time allocations
        tracemalloc.start()
        analyzer = SessionAnalyzer(keep_contacts=False)
        for chunk in simulated_chunks(hours, 10.0):
            analyzer.feed(chunk)
        analyzer.finish()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if hours != 0.02:
            print(f"| {hours:g} h | {peak / 1e6:.2f} |")
    print()


def live_latency(minutes: float = 10.0) -> None:
    chunks = simulated_session(minutes / 60.0, 0.1)
    analyzer = SessionAnalyzer(keep_contacts=False)
    times = []
    for chunk in chunks:
        start = time.perf_counter()
        analyzer.feed(chunk)
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000.0
    print(f"Live: {len(chunks)} feeds of 0.1 s chunks ({minutes:g} min, both feet):\n")
    print("| median ms | p99 ms | max ms |")
    print("|---|---|---|")
    print(f"| {np.median(ms):.3f} | {np.percentile(ms, 99):.3f} | {ms.max():.3f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--memory-hours", type=float, nargs="+", default=[0.5, 4.0])
    args = parser.parse_args()
    throughput(args.hours)
    peak_memory(args.memory_hours)
    live_latency()


if __name__ == "__main__":
    main()
