"""The firmware as a board holds it, in a heap of the board's size, with its heap watched.

`FirmwareProcess` normally runs `firmware/main.py` from source with an unbounded heap. With a
`BoardImage` it runs what `numbguard flash` deploys instead, the `.mpy` files of
`numbguard.deploy.compile`, in a heap of ``budget_bytes`` for the firmware, in one of two ways
(`BoardLoad`):

- ``"mpy"``: the files on the filesystem, as `numbguard flash` leaves them. Importing one
  loads its bytecode into the MicroPython heap.
- ``"rom"``: the same files in a ROMFS image (mpremote's `VfsRomWriter`) mounted with
  `vfs.VfsRom`: bytecode and constants are used in place, as in flash on a board whose
  MicroPython has the firmware frozen in or a ROMFS partition (MicroPython's "Working with
  ROMFS" and "MicroPython manifest files" docs). On the unix port the image is a bytes object
  on the heap, so its footprint is added to the heap given to the process. Names the modules
  import are still interned in RAM (qstr pools), which frozen modules keep in flash too.
- ``"frozen"``: nothing on the filesystem; the binary is one built with the firmware frozen in
  (`frozen_micropython`), as a board flashed with ``numbguard flash --stage-frozen``'s build.

The simulated `machine`, `time`, `select` and `esp32` are built into a board's firmware, so
they go with the firmware's files (in the image, or beside the `.mpy` files) and their heap is
added too: a probe run of the same boot script measures both before the real boot, and
``-X heapsize`` gets the budget plus that. What the firmware then allocates beyond the budget
raises `MemoryError` in it, as on the board.

The boot script also starts a heap watch beside the firmware's tasks: every `WATCH_MS` it
collects garbage and writes the live heap (less the probe's share) to ``heap.json`` in the
insole's flash directory, with the largest live heap seen and the smallest free heap.
`read_heap` reads it back. The watch's own objects (under 1 KiB) count against the budget.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from mpremote.romfs import VfsRomWriter  # type: ignore[import-untyped]

from numbguard.calibration import esp32_adc
from numbguard.deploy.compile import (
    BOARD_MAIN_MODULE,
    FROZEN_MODULES_DIR,
    compile_firmware,
    compile_module,
    stage_frozen,
)
from numbguard.errors import DeviceError
from numbguard_lab import MICROPYTHON_SIM_DIR

log = logging.getLogger(__name__)

BoardLoad = Literal["mpy", "rom", "frozen"]
WATCH_MS: Final = 200
HEAP_FILE: Final = "heap.json"
IMAGE_FILE: Final = "firmware.romfs"
BOOT_FILE: Final = "board_boot.py"
_PROBE_ENV: Final = "NUMBGUARD_HEAP_PROBE"
_PROBE_TIMEOUT_S: Final = 60.0
_PROBE_HEAP_BYTES: Final = 256 * 1024
SIM_MODULES: Final = ("esp32_adc", "machine", "time", "select", "esp32")
"""The simulated modules a board has built in; imported before the firmware, measured apart.
`esp32_adc` is the chip's ADC curve the simulated `machine` reads through (its home is
`numbguard.calibration`, so the host's model and the simulated chip are one file)."""


def _sim_sources() -> dict[str, Path]:
    return {name: Path(esp32_adc.__file__) if name == "esp32_adc"
            else MICROPYTHON_SIM_DIR / f"{name}.py" for name in SIM_MODULES}  # fmt: skip

_BOOT = """\
# The board's boot for the lab (numbguard_lab.board_image): the firmware's files, then a heap
# watch beside its tasks.
import gc, sys
gc.collect()
LOAD = {load!r}
if LOAD == "rom":
    import vfs
    with open({image!r}, "rb") as f:
        _image = f.read()
    vfs.mount(vfs.VfsRom(_image), "/rom")
    sys.path.insert(0, "/rom")
elif LOAD == "mpy":
    sys.path.insert(0, {mpy_dir!r})
import os
for _name in {sim_modules!r}:
    __import__(_name)
import asyncio, json
gc.collect()
_base = gc.mem_alloc()
if os.getenv({probe_env!r}):
    print(json.dumps({{"overhead_bytes": _base, "usable_bytes": _base + gc.mem_free()}}))
    sys.exit(0)
_most = [0, 1 << 30]

def _write(live, free, boot):
    _most[0] = max(_most[0], live)
    _most[1] = min(_most[1], free)
    with open({heap_file!r} + ".tmp", "w") as f:
        f.write(json.dumps({{"boot_bytes": boot, "live_bytes": live,
                             "max_live_bytes": _most[0], "min_free_bytes": _most[1]}}))
    os.rename({heap_file!r} + ".tmp", {heap_file!r})

async def _watch(boot):
    while True:
        await asyncio.sleep_ms({watch_ms})
        gc.collect()
        _write(gc.mem_alloc() - _base, gc.mem_free(), boot)

import {main}
_run = {main}.Firmware.run

async def _run_watched(self):
    gc.collect()
    boot = gc.mem_alloc() - _base
    _write(boot, gc.mem_free(), boot)
    asyncio.create_task(_watch(boot))
    await _run(self)

{main}.Firmware.run = _run_watched
{main}.main()
"""


@dataclass(frozen=True)
class HeapReport:
    """The firmware's heap as the watch last wrote it, in bytes (the probe's share left out)."""

    boot_bytes: int  # live once the firmware is constructed, before its tasks start
    live_bytes: int  # live at the last watch
    max_live_bytes: int  # the largest live heap any watch saw
    min_free_bytes: int  # the smallest free heap any watch saw


@dataclass(frozen=True)
class BoardImage:
    """A prepared board: the boot script to run and the heap to give the process."""

    load: BoardLoad
    budget_bytes: int
    boot_script: Path
    heap_bytes: int  # the budget plus what the probe measured

    def argv(self, micropython: str) -> list[str]:
        return [micropython, "-X", f"heapsize={self.heap_bytes}", str(self.boot_script)]


def build_board_image(
    firmware_dir: Path, work_dir: Path, micropython: str,
    *, load: BoardLoad, budget_bytes: int,
) -> BoardImage:  # fmt: skip
    """Compile the firmware and the simulated modules into `work_dir`, write the boot script,
    and probe what the image and the simulated modules take on `micropython`'s heap."""
    mpy_dir = work_dir / "board-files"
    compile_firmware({p.name: p for p in sorted(firmware_dir.glob("*.py"))}, mpy_dir)
    (mpy_dir / "main.py").unlink()  # the board's stub: the boot script imports the module
    for name, source in _sim_sources().items():
        compile_module(source, mpy_dir / f"{name}.mpy")
    image = work_dir / IMAGE_FILE
    if load == "rom":
        writer = VfsRomWriter()
        for path in sorted(mpy_dir.glob("*.mpy")):
            writer.mkfile(path.name, path.read_bytes())
        image.write_bytes(writer.finalise())
    boot = work_dir / BOOT_FILE
    boot.write_text(_BOOT.format(
        load=load, image=str(image), mpy_dir=str(mpy_dir), sim_modules=SIM_MODULES,
        probe_env=_PROBE_ENV, heap_file=HEAP_FILE, watch_ms=WATCH_MS, main=BOARD_MAIN_MODULE,
    ))  # fmt: skip
    overhead_bytes, usable_fraction = _probe(micropython, boot, work_dir)
    # A heap of H bytes lends u * H to objects (the rest is its allocation tables): give the
    # firmware u * budget, as the board's heap of `budget` bytes would.
    heap_bytes = budget_bytes + math.ceil(overhead_bytes / usable_fraction)
    return BoardImage(load, budget_bytes, boot, heap_bytes)


def _probe(micropython: str, boot: Path, work_dir: Path) -> tuple[int, float]:
    """What the image and the simulated modules take, and the part of a heap objects get."""
    env = dict(os.environ, MICROPYPATH=".frozen", **{_PROBE_ENV: "1"})
    try:
        done = subprocess.run(
            [micropython, "-X", f"heapsize={_PROBE_HEAP_BYTES}", str(boot)], cwd=work_dir,
            env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=_PROBE_TIMEOUT_S,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DeviceError(f"the board image's heap probe did not run: {error}") from error
    output = (done.stdout + done.stderr).decode(errors="replace").strip()
    try:
        figures = json.loads(output.splitlines()[-1])
        return int(figures["overhead_bytes"]), int(figures["usable_bytes"]) / _PROBE_HEAP_BYTES
    except (ValueError, IndexError, KeyError, TypeError):
        raise DeviceError(
            f"the board image's heap probe failed: expected its heap figure, got {output[-400:]!r}"
        ) from None


BUILD_TIMEOUT_S: Final = 900.0


def frozen_micropython(
    firmware_dir: Path, nimble32: str, cache_dir: Path
) -> str:
    """``micropython-nimble32`` with the firmware frozen in, as `numbguard flash
    --stage-frozen` stages it, and the simulated modules with it (they are the board's
    built-in modules): built with the ``build.sh`` beside `nimble32`'s ``bin/`` (about two
    minutes; needs gcc's 32-bit libraries) and kept in `cache_dir` under a hash of what went in.
    """
    build_script = Path(nimble32).resolve().parent.parent / "build.sh"
    if not build_script.is_file():
        raise DeviceError(f"no build.sh beside {nimble32}: cannot build a frozen firmware")
    sources = {p.name: p for p in sorted(firmware_dir.glob("*.py"))}
    digest = hashlib.sha256(build_script.read_bytes())
    for path in [*sources.values(), *_sim_sources().values()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    out = cache_dir / f"micropython-frozen-{digest.hexdigest()[:16]}"
    binary = out / "micropython-nimble32"
    if binary.is_file():
        return str(binary)
    with tempfile.TemporaryDirectory() as staging:
        modules = stage_frozen(sources, Path(staging)).parent / FROZEN_MODULES_DIR
        for name, source in _sim_sources().items():
            shutil.copy(source, modules / f"{name}.py")
        log.info("building MicroPython with the firmware frozen in (about two minutes)")
        try:
            done = subprocess.run(
                ["bash", str(build_script), str(out)], env=dict(os.environ, FREEZE=str(modules)),
                capture_output=True, timeout=BUILD_TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DeviceError(f"building the frozen MicroPython did not finish: {error}") from error
    if done.returncode != 0 or not binary.is_file():
        said = (done.stdout + done.stderr).decode(errors="replace").strip()[-600:]
        raise DeviceError(
            "building the frozen MicroPython failed: expected micropython-nimble32 (the 32-bit "
            f"build needs gcc-multilib), got exit {done.returncode}: {said}"
        )
    return str(binary)


def read_heap(flash_dir: Path) -> HeapReport | None:
    """The heap watch's last report, or None before the firmware wrote one."""
    try:
        values = json.loads((flash_dir / HEAP_FILE).read_text())
        return HeapReport(**{name: int(values[name]) for name in HeapReport.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None
