"""Reading the calibration's text files with an `InputError` that names the file."""

from __future__ import annotations

import os
from pathlib import Path

from numbguard.errors import InputError


def read_text(path: str | os.PathLike[str], what: str, expected: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else None
        raise InputError(
            f"cannot read {what}", expected=expected, got=reason or str(error), where=str(path)
        ) from None
