"""`--log-level` and `--log-file` of the long-running commands, and the handlers they set up.

The records of every `numbguard.*` logger go to the log file at the level asked for (the file
is created owner-only: a log names the insoles and the files of one runner). Without a file
they go to stderr at that level; with one, stderr gets only warnings and worse. The stderr
handler looks `sys.stderr` up for each record, so while the live view runs (it captures
stderr) a record is printed above the view instead of through it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

LEVELS: Final = ("debug", "info", "warning", "error")
DEFAULT_LEVEL: Final = "warning"
FILE_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
STDERR_FORMAT: Final = "numbguard: %(levelname)s: %(name)s: %(message)s"


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level", choices=LEVELS, default=DEFAULT_LEVEL,
        help=f"log records at this level and above (default: {DEFAULT_LEVEL})",
    )  # fmt: skip
    parser.add_argument(
        "--log-file", type=Path, metavar="PATH",
        help="write the log to this file (replaced, owner-only); stderr then shows only "
        "warnings and errors",
    )  # fmt: skip


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when the record comes (the live view swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        super().emit(record)


@contextlib.contextmanager
def logging_to(args: argparse.Namespace) -> Iterator[None]:
    """Send the package's log where `args` says while the command runs; a command without
    the options logs as before (warnings to stderr through logging's last resort)."""
    level_name: str | None = getattr(args, "log_level", None)
    if level_name is None:
        yield
        return
    level = logging.getLevelName(level_name.upper())
    package = logging.getLogger("numbguard")
    handlers: list[logging.Handler] = []
    log_file: IO[str] | None = None
    path: Path | None = getattr(args, "log_file", None)
    if path is not None:
        from numbguard.private_files import open_private_text  # only when a file is asked for

        log_file = open_private_text(path)
        to_file = logging.StreamHandler(log_file)
        to_file.setLevel(level)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(to_file)
    to_stderr = _CurrentStderr()
    to_stderr.setLevel(max(level, logging.WARNING) if path is not None else level)
    to_stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    handlers.append(to_stderr)
    old_level = package.level
    package.setLevel(level)
    for handler in handlers:
        package.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            package.removeHandler(handler)
            handler.flush()
        package.setLevel(old_level)
        if log_file is not None:
            log_file.close()
