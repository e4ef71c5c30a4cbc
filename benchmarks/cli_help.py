"""How fast the front door opens: `numbguard --help` and each command's `--help`.

Run by hand: ``python benchmarks/cli_help.py [--repeat 5]``. Each line starts a fresh Python
process (``python -m numbguard ... --help``), as a user's shell does, and prints the best and
the median wall time of `--repeat` runs, with the bare interpreter's start-up for comparison.
The target (issue: under 0.3 s each) is on an idle machine; a loaded one shows the bare start-up
slower too, so compare against that line.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from numbguard.cli import COMMANDS


def wall_s(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines: list[tuple[str, list[str]]] = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("numbguard --help", [sys.executable, "-m", "numbguard", "--help"]),
    ]
    lines += [
        (f"numbguard {name} --help", [sys.executable, "-m", "numbguard", name, "--help"])
        for name in COMMANDS
    ]
    print(f"{'command':<32} {'best s':>8} {'median s':>9}")
    for label, argv in lines:
        times = [wall_s(argv) for _ in range(args.repeat)]
        print(f"{label:<32} {min(times):8.3f} {statistics.median(times):9.3f}")


if __name__ == "__main__":
    main()
