"""Files on the board through mpremote: copy, hash, read, and the reset that boots them.

Every call is one ``mpremote connect PORT resume ...`` command line (commands chained with
``+``); ``resume`` keeps mpremote from soft-resetting the board on connect, so what runs is
exactly what the command line says. A copy is trusted only once the board's own sha256 of
each file equals the local one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from numbguard.deploy.tools import ToolRun, run_tool, shown, tool_argv
from numbguard.errors import DeviceRefused, PortBusy


def mpremote_argv(port: str, *commands: Sequence[str]) -> list[str]:
    """``mpremote connect PORT resume CMD1 + CMD2 ...``."""
    argv = tool_argv("mpremote", "connect", port, "resume")
    for index, command in enumerate(commands):
        if index:
            argv.append("+")
        argv.extend(command)
    return argv


def copy_argv(port: str, files: Mapping[str, Path]) -> list[str]:
    """Copy each local file to its name on the board (`files`: board name -> local path)."""
    return mpremote_argv(port, *(["cp", str(path), f":{name}"] for name, path in files.items()))


def hashes_argv(port: str, names: Sequence[str]) -> list[str]:
    return mpremote_argv(port, ["sha256sum", *(f":{name}" for name in names)])


def remove_argv(port: str, names: Sequence[str]) -> list[str]:
    """Delete `names` from the board where they exist (a missing one is no error)."""
    code = (f"import os\nfor n in {list(names)!r}:\n try:\n  os.remove(n)\n"
            " except OSError:\n  pass")  # fmt: skip
    return mpremote_argv(port, ["exec", code])


def reset_argv(port: str) -> list[str]:
    """A hard reset (``machine.reset()``): the board boots into main.py."""
    return mpremote_argv(port, ["reset"])


def cat_argv(port: str, name: str) -> list[str]:
    return mpremote_argv(port, ["cat", f":{name}"])


_HASH_FOR = re.compile(r"^sha256sum :(.+)$")
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_MISSING = re.compile(r"sha256sum: (.+?): No such file", re.IGNORECASE)


def parse_hashes(stdout: str) -> dict[str, str]:
    """Board name -> hex sha256 from ``mpremote sha256sum :a :b`` output (name, then digest)."""
    hashes: dict[str, str] = {}
    name: str | None = None
    for line in stdout.splitlines():
        line = line.strip()
        if match := _HASH_FOR.match(line):
            name = match.group(1)
        elif name is not None and _HEX_DIGEST.match(line):
            hashes[name] = line
            name = None
    return hashes


def local_hashes(files: Mapping[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}


def check_mpremote(run: ToolRun, port: str, doing: str) -> None:
    """Raise `DeviceError` naming what went wrong when mpremote failed."""
    if run.returncode == 0:
        return
    text = run.output.lower()
    if "failed to access" in text:
        raise PortBusy(port, f"busy or gone: `{run.tail(1)}`", doing=doing,
                       fix="close any other program that uses it")  # fmt: skip
    if "could not enter raw repl" in text:
        raise DeviceRefused(
            port, doing,
            "no MicroPython REPL: expected the raw REPL prompt, got none (is MicroPython on "
            "the chip? use --micropython FIRMWARE.bin to put it there)",
        )  # fmt: skip
    raise DeviceRefused(
        port, doing,
        f"mpremote exit {run.returncode}: {run.tail()}; command: {shown(run.argv)}",
    )  # fmt: skip


def verify_hashes(expected: Mapping[str, str], got: Mapping[str, str], port: str) -> None:
    """Every file's board sha256 must equal the local one; name each that does not."""
    bad = [
        f"{name} (expected {digest[:12]}..., got "
        f"{got[name][:12] + '...' if name in got else 'no file'})"
        for name, digest in expected.items()
        if got.get(name) != digest
    ]
    if bad:
        raise DeviceRefused(
            port, "verifying the copy",
            f"{len(bad)} of {len(expected)} file(s) differ on the board: {', '.join(bad)}; "
            "flash again (a worn or full flash can corrupt writes)",
        )  # fmt: skip


def copy_files(port: str, files: Mapping[str, Path]) -> None:
    check_mpremote(run_tool(copy_argv(port, files)), port, "copying the firmware")


def board_hashes(port: str, names: Sequence[str]) -> dict[str, str]:
    """Board name -> hex sha256 of each file that exists on the board."""
    hashes: dict[str, str] = {}
    remaining = list(names)
    while remaining:
        run = run_tool(hashes_argv(port, remaining))
        hashes.update(parse_hashes(run.stdout))
        missing = _MISSING.search(run.output)
        if run.returncode == 0 or missing is None or missing.group(1) not in remaining:
            check_mpremote(run, port, "hashing the copied files")
            break
        # sha256sum stops at the first missing file: go on after it.
        remaining = remaining[remaining.index(missing.group(1)) + 1 :]
    return hashes


def read_board_file(port: str, name: str) -> str | None:
    """A text file's content on the board, or None when there is no such file."""
    run = run_tool(cat_argv(port, name))
    if run.returncode != 0 and "no such file" in run.output.lower():
        return None
    check_mpremote(run, port, f"reading {name}")
    # mpremote echoes nothing before cat's content; the content is the whole stdout.
    return run.stdout


def remove_files(port: str, names: Sequence[str]) -> None:
    check_mpremote(run_tool(remove_argv(port, names)), port, "removing old firmware files")


def reset_board(port: str) -> None:
    run = run_tool(reset_argv(port))
    check_mpremote(run, port, "resetting the board")
