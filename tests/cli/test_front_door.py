"""The front door imports only what the command runs (benchmarks/cli_help.py times it).

Each case starts a fresh interpreter, runs `numbguard.cli.main` as the shell would, and reads
which modules got imported: a count of work done, not a timing, so it holds on a busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from numbguard.cli import COMMANDS

PROBE = """
import contextlib, io, json, sys
from numbguard.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""


def modules_imported_by(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], check=True, capture_output=True, text=True
    )
    return set(json.loads(done.stdout))


def test_top_level_help_imports_no_command() -> None:
    imported = modules_imported_by("--help")
    commands = {f"numbguard.cli.{name}" for name in COMMANDS}
    assert not imported & commands
    assert "numpy" not in imported


# What a command's --help must not cost: plotting, the radio and serial stacks, the report,
# the lab, and numpy (about 0.15 s of start-up on its own).
HEAVY = ("matplotlib", "bleak", "serial", "esptool", "numbguard.report", "numbguard_lab", "numpy")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_commands_help_imports_nothing_heavy(name: str) -> None:
    imported = modules_imported_by(name, "--help")
    assert f"numbguard.cli.{name}" in imported  # the probe did build this command's options
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert heavy == [], f"numbguard {name} --help imported {heavy}"


@pytest.mark.parametrize("name", ["analyze", "export", "flash"])
def test_a_command_imports_no_other_command(name: str) -> None:
    imported = modules_imported_by(name, "--help")
    others = {f"numbguard.cli.{other}" for other in COMMANDS if other != name}
    assert f"numbguard.cli.{name}" in imported
    assert not imported & others


def test_an_unknown_command_is_one_clear_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "numbguard", "bogus"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "invalid choice: 'bogus'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["replay", "/nonexistent/session.ngrec"], "/nonexistent/session.ngrec: cannot open file"),
        (
            ["run", "serial:///dev/numbguard-no-such-port", "--no-record", "--no-view"],
            "/dev/numbguard-no-such-port: not found",
        ),
    ],
)
def test_an_error_leaf_is_one_line_and_exit_code_2(argv: list[str], said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "numbguard", *argv], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"numbguard {argv[0]}: {said}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
