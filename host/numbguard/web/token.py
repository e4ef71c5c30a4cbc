"""The web page's access token: random, kept in the user's config folder, readable by them only.

Kept across runs so a phone that opened the page once reconnects after a host restart with
the same address; `--web-new-token` replaces it (then every old address stops working).
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path
from typing import Final

from numbguard.private_files import write_private_text

TOKEN_BYTES: Final = 24  # 192 random bits, 32 URL-safe characters
MIN_TOKEN_CHARS: Final = 22  # a stored token shorter than 128 bits is replaced
TOKEN_CHARS: Final = frozenset(string.ascii_letters + string.digits + "-_")  # token_urlsafe's


def token_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "numbguard" / "web-token"


def web_token(*, new: bool = False, path: Path | None = None) -> str:
    """The stored token, or a new one (written 0600) when asked, missing or unusable."""
    path = path or token_path()
    if not new:
        try:
            stored = path.read_bytes().decode("ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            stored = ""  # none yet, or not one this module wrote: a new one
        if len(stored) >= MIN_TOKEN_CHARS and all(c in TOKEN_CHARS for c in stored):
            return stored
    token = secrets.token_urlsafe(TOKEN_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_text(path, token + "\n")
    return token
