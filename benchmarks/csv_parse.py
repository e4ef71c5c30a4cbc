"""CSV interchange speed: the streaming reader against pandas.read_csv on the same file.

Run by hand; prints markdown for docs/performance.md (## Analysis):

    python benchmarks/csv_parse.py [--hours 1]

A simulated two-foot session at 100 Hz x 6 pads (13 columns, ~5% empty cells) is written
with `write_interchange`, then parsed: by `read_interchange` (60 s chunks, what `numbguard
analyze` uses), and by `pandas.read_csv` (whole file, C parser) when pandas is installed
(`pip install pandas`; it is not a numbguard dependency). Also: the reader's peak memory
(tracemalloc) on 0.5 h and 4 h files, which stays flat because the file is streamed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from numbguard.io.interchange import read_interchange, write_interchange
from numbguard.pads import FOOT_IDS, PAD_IDS
from numbguard.types import PressureChunk

RATE_HZ = 100.0


def session_chunks(hours: float, chunk_s: float = 60.0, seed: int = 0) -> Iterator[PressureChunk]:
    """Stepping-like pad signals with lost samples, generated chunk by chunk."""
    rng = np.random.default_rng(seed)
    n = round(chunk_s * RATE_HZ)
    for start in range(0, round(hours * 3600 * RATE_HZ), n):
        t_s = (start + np.arange(n)) / RATE_HZ
        phase = np.sin(2 * np.pi * t_s / 0.75)
        for foot in FOOT_IDS:
            pressure = {}
            for i, pad in enumerate(PAD_IDS):
                values = np.round(np.maximum(150 * phase + 20 * i + rng.normal(0, 5, n), 0), 2)
                values[rng.random(n) < 0.05] = np.nan
                pressure[pad] = values
            yield PressureChunk(foot, t_s, pressure, RATE_HZ)


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def read_all(path: Path) -> int:
    rows = 0
    for chunk in read_interchange(path, chunk_s=60.0):
        if chunk.foot == "left":
            rows += len(chunk.t_s)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"Load average before the run: {load} ({os.cpu_count()} CPUs)\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.csv"
        write_s = best_of(1, lambda: write_interchange(path, session_chunks(args.hours)))
        rows = read_all(path)
        size_mb = path.stat().st_size / 1e6
        print(f"{args.hours:g} h, two feet, 6 pads at 100 Hz: {rows:,} rows, {size_mb:.1f} MB\n")
        print("| parser | time s | rows/s | MB/s |")
        print("|---|---|---|---|")
        print(
            f"| `write_interchange` (writing) | {write_s:.2f} | {rows / write_s:,.0f} "
            f"| {size_mb / write_s:.1f} |"
        )
        reader_s = best_of(3, lambda: read_all(path))
        print(
            f"| `read_interchange`, 60 s chunks | {reader_s:.2f} | {rows / reader_s:,.0f} "
            f"| {size_mb / reader_s:.1f} |"
        )
        try:
            import pandas
        except ImportError:
            print("| pandas.read_csv | not installed | | |")
        else:
            pandas_s = best_of(3, lambda: pandas.read_csv(path, comment="#"))
            print(
                f"| `pandas.read_csv` {pandas.__version__} | {pandas_s:.2f} "
                f"| {rows / pandas_s:,.0f} | {size_mb / pandas_s:.1f} |"
            )
        print()
        print("| file | reader peak MB |")
        print("|---|---|")
        for hours in (0.5, 4.0):
            long_path = Path(folder) / f"{hours}.csv"
            write_interchange(long_path, session_chunks(hours))
            tracemalloc.start()
            read_all(long_path)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"| {hours:g} h ({long_path.stat().st_size / 1e6:.0f} MB) | {peak / 1e6:.1f} |")


if __name__ == "__main__":
    main()
