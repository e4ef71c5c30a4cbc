"""Files that hold a person's data, created readable and writable by their owner only.

Recordings, reports, exports, calibrations and the pairing store describe one runner's feet
and devices; on a shared machine nobody else should read them. Every writer of such a file
goes through here, so the mode is set in one place whatever the process's umask.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO

OWNER_ONLY_MODE = 0o600


def open_private_text(path: str | os.PathLike[str], *, newline: str | None = None) -> IO[str]:
    """Open `path` for writing text (created or truncated), owner-only even if it existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_MODE)
    os.fchmod(fd, OWNER_ONLY_MODE)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)


def write_private_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` atomically: a crash leaves the old file or the new one, never half of one."""
    target = Path(path)
    fd, part = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), OWNER_ONLY_MODE)  # mkstemp's 0600, whatever the umask
            file.write(text)
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        raise
    return target


def ensure_private_file(path: str | os.PathLike[str]) -> Path:
    """Create `path` empty if it is missing, and make it owner-only either way: for a file
    another library then opens itself (the sqlite session index; sqlite gives its journal the
    database file's mode)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_MODE)
    try:
        os.fchmod(fd, OWNER_ONLY_MODE)
    finally:
        os.close(fd)
    return Path(path)
