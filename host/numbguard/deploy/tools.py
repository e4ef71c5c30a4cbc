"""esptool and mpremote, run as ``python -m`` subprocesses of this interpreter.

Both are real dependencies of numbguard. Running them as their own processes keeps their
command lines exactly what a user would type (shown by ``--dry-run``), isolates their global
state, and gives their own messages, which the callers map to numbguard errors.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Final

from numbguard.errors import DeviceTimeout

TOOL_TIMEOUT_S: Final = 300.0  # erasing and writing 4 MB of flash takes about a minute


@dataclass(frozen=True)
class ToolRun:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def tail(self, lines: int = 4) -> str:
        return " | ".join(line.strip() for line in self.output.strip().splitlines()[-lines:])


def tool_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def shown(argv: list[str] | tuple[str, ...]) -> str:
    """A command line as a user would type it (``esptool ...`` rather than python -m)."""
    if len(argv) > 2 and argv[0] == sys.executable and argv[1] == "-m":
        argv = argv[2:]
    return " ".join(argv)


def run_tool(argv: list[str], *, timeout_s: float = TOOL_TIMEOUT_S) -> ToolRun:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as error:
        raise DeviceTimeout(f"`{shown(argv)}`", "end", timeout_s) from error
    return ToolRun(tuple(argv), done.returncode, done.stdout, done.stderr)
