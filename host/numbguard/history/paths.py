"""Where a runner's recordings and their index live, by default in the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """$XDG_DATA_HOME/numbguard, else ~/.local/share/numbguard."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "numbguard"


def sessions_dir() -> Path:
    """Where recordings go by default: $NUMBGUARD_SESSIONS_DIR, else the data folder's
    `sessions/`."""
    explicit = os.environ.get("NUMBGUARD_SESSIONS_DIR")
    return Path(explicit) if explicit else data_dir() / "sessions"


def index_path() -> Path:
    """The session index: $NUMBGUARD_INDEX, else the data folder's `index.sqlite3`."""
    explicit = os.environ.get("NUMBGUARD_INDEX")
    return Path(explicit) if explicit else data_dir() / "index.sqlite3"
