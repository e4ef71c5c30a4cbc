"""Time of `numbguard flash` per stage and of a calibration hold, without hardware.

Run by hand; prints markdown for docs/performance.md (## Flashing and calibration):

    python benchmarks/flash_and_calibrate.py [--runs 3]

- flash: the firmware onto the simulated board of tests/deploy (the MicroPython unix port on a
  pty, driven by the real mpremote), each stage timed from the progress lines; the serial
  line of a pty has no baud limit, so copy times on a real board (115200 baud) are longer;
- calibration: wall time per hold of the known-load run on the calibration bench of
  tests/deploy (the lab's CPython insole over a pty), data-watching mode, for settle 0.1 s and
  hold 0.2 s at 100 and 200 Hz: what the run waits for beyond settle + hold is frame latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from numbguard.deploy import FlashOptions, flash
from numbguard.session.calibration_procedure import CalibrationRun, LoadStep
from numbguard.transports import open_transport
from numbguard_lab.pty_peer import PtyPeer

ROOT = Path(__file__).resolve().parents[1]
SIM_BOARD = ROOT / "tests" / "deploy" / "sim_board.py"
BENCH = ROOT / "tests" / "deploy" / "calibration_bench.py"


def micropython() -> str:
    return str(Path(sys.executable).parent / "micropython")


def flash_stages(runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as fs:
            argv = [sys.executable, str(SIM_BOARD), "--micropython", micropython(), "--fs", fs]
            with PtyPeer(argv) as peer:
                last = time.perf_counter()

                def stamp(line: str) -> None:
                    nonlocal last
                    now = time.perf_counter()
                    stage = line.split("] ", 1)[1].split(":")[0]
                    times.setdefault(stage, []).append(now - last)
                    last = now

                flash(FlashOptions(foot="left", name="bench", port=peer.path), stamp)
    return times


class Hand:
    watches_data = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, loads: dict[str, float]) -> None:
        staged = self.path.with_suffix(".tmp")
        staged.write_text(json.dumps(loads))
        staged.replace(self.path)

    async def place(self, step: LoadStep) -> float:
        self.put({step.pad: step.load_n})
        return step.load_n

    async def remove(self, pad: str) -> None:
        self.put({})


async def hold_time_s(rate_hz: int) -> float:
    with tempfile.TemporaryDirectory() as work:
        hand = Hand(Path(work) / "loads.json")
        hand.put({})
        argv = [sys.executable, str(BENCH), "--load-file", str(hand.path), "--rate-hz",
                str(rate_hz), "--duration-s", "60"]  # fmt: skip
        schedule = [LoadStep("ball_center", load) for load in (0, 3, 10, 20, 40)]
        with PtyPeer(argv) as peer:
            async with open_transport(f"serial://{peer.path}") as transport:
                run = CalibrationRun(transport, peer.path, hand, settle_s=0.1, hold_s=0.2,
                                     progress=lambda _: None)  # fmt: skip
                start = time.perf_counter()
                await run.measure(schedule)
                return (time.perf_counter() - start) / len(schedule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stages = flash_stages(args.runs)
    print(f"flash on the simulated board, median of {args.runs} runs:\n")
    print("| stage | s |\n|---|---|")
    for stage, values in stages.items():
        print(f"| {stage} | {statistics.median(values):.2f} |")
    total = sum(statistics.median(values) for values in stages.values())
    print(f"| total | {total:.2f} |\n")
    print("calibration hold (settle 0.1 s + hold 0.2 s), wall time per step:\n")
    print("| rate | s per step |\n|---|---|")
    for rate_hz in (100, 200):
        print(f"| {rate_hz} Hz | {asyncio.run(hold_time_s(rate_hz)):.2f} |")


if __name__ == "__main__":
    main()
