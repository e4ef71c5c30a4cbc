"""`--log-level` and `--log-file` of the long-running commands: where the records go, and
that the log file is the owner's only."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from numbguard.cli import main

SIM = "sim://normal_run?speed=max&duration_s=30"
QUIET = ["--no-view", "--quiet"]


def test_a_run_with_a_log_file_writes_transport_session_and_recording_records_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    log.write_text("an older log\n")
    log.chmod(0o644)  # a log left readable by others is made the owner's on reuse
    recording = tmp_path / "s.ngrec"
    argv = ["run", SIM, "--record", str(recording), *QUIET, "--log-level", "info",
            "--log-file", str(log)]  # fmt: skip
    assert main(argv) == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    lines = log.read_text().splitlines()
    assert "an older log" not in lines
    names = {line.split()[3].rstrip(":") for line in lines}
    assert {"numbguard.transports.base", "numbguard.session.live"} <= names
    assert "numbguard.recording.writer" in names
    assert any(f"{recording}: closed" in line for line in lines)
    # The records went to the file, not through the terminal.
    assert "INFO" not in capsys.readouterr().err
    # Nothing stays attached once the command is done.
    assert logging.getLogger("numbguard").handlers == []


def test_without_a_log_file_records_at_the_level_go_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", SIM, "--no-record", *QUIET, "--log-level", "info"]) == 0
    err = capsys.readouterr().err
    assert "numbguard: INFO: numbguard.session.live: session from sim://" in err


def test_the_default_level_keeps_info_off_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", SIM, "--no-record", *QUIET]) == 0
    assert "INFO" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "demo", "calibrate", "flash", "evaluate", "replay"])
def test_each_long_running_command_takes_the_log_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = capsys.readouterr().out
    assert "--log-level" in help_text and "--log-file" in help_text
