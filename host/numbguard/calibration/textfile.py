"""Reading the calibration's text files with an `UnreadableFile` that names the file."""

from __future__ import annotations

import os
from pathlib import Path

from numbguard.errors import UnreadableFile


def read_text(path: str | os.PathLike[str], what: str, expected: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else None
        raise UnreadableFile(
            path, reason or str(error), expected=expected, message=f"cannot read {what}"
        ) from None
