"""Calibration throughput: ADC counts -> kPa with saturation flags, one insole, six pads.

    python benchmarks/calibration_throughput.py

A 1 h session at 100 Hz (360,000 sample sets x 6 pads) converted in one block and in
25-set chunks (one MTU-247 data frame each, as live data arrives), against one plain numpy
pass over the same array (`counts * 1.0`) as the yardstick. Best of 5.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from numbguard.calibration import InsoleCalibration

RATE_HZ = 100
SESSION_S = 3600
CHUNK_SETS = 25


def best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    calibration = InsoleCalibration.default().with_tare({"lace_upper": 120, "heel": 40})
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4096, size=(RATE_HZ * SESSION_S, 6)).astype(np.float64)
    chunks = [counts[i : i + CHUNK_SETS] for i in range(0, len(counts), CHUNK_SETS)]
    yardstick_s = best_of(5, lambda: counts * 1.0)
    # A fresh copy per run: a long block converts through a per-count table that each
    # calibration makes once, and that making belongs in the figure.
    block_s = best_of(5, lambda: replace(calibration).convert(counts))
    chunked_s = best_of(3, lambda: [calibration.convert(chunk) for chunk in chunks])
    values = counts.size
    print("| what | time | values/s | x real time | x one numpy pass |")
    print("|---|---|---|---|---|")
    for name, seconds in (
        ("1 h in one block", block_s),
        (f"1 h in {CHUNK_SETS}-set chunks", chunked_s),
    ):
        print(
            f"| {name} | {seconds * 1000:.1f} ms | {values / seconds:,.0f} | "
            f"{SESSION_S / seconds:,.0f} | {seconds / yardstick_s:.0f} |"
        )
    print(
        f"| one numpy pass (`counts * 1.0`) | {yardstick_s * 1000:.2f} ms | "
        f"{values / yardstick_s:,.0f} | | 1 |"
    )
    print(f"\nper chunk ({CHUNK_SETS} sets): {chunked_s / len(chunks) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
