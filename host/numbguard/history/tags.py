"""A session's tags (shoe, lacing, note): recorded with it, or added later in a sidecar.

A recording is lossless and never rewritten, so tags added after the run go into
``<session>.tags.json`` beside it (for any session file: recording, CSV, Moticon export). The
sidecar wins over the recording's own tags, name by name; an empty value in the sidecar clears
a recorded tag.

Sidecar: ``{"format": 1, "tags": {"shoe": "...", "lacing": "...", "note": "..."}}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from numbguard.errors import BadFile, UnreadableFile
from numbguard.private_files import write_private_text
from numbguard.recording import TAG_NAMES, RecordingReader, checked_tags
from numbguard.recording.format import MAGIC

SIDECAR_SUFFIX: Final = ".tags.json"
SIDECAR_FORMAT: Final = 1
SIDECAR_FORM: Final = '{"format": 1, "tags": {"shoe"|"lacing"|"note": text}}'


def sidecar_path(session: str | os.PathLike[str]) -> Path:
    """Where the added tags of `session` live: the session's name plus `.tags.json`."""
    path = Path(session)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def parse_sidecar(text: str, *, where: str = "") -> dict[str, str]:
    """The tags in a sidecar's text, empty values kept (they clear a recorded tag).

    Anything else than the documented object raises `BadFile` saying what came.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadFile(
            "tags file is not JSON", path=where, line=error.lineno, column=error.colno,
            expected="a JSON object", got=error.msg,
        ) from None  # fmt: skip
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise BadFile("bad tags file", path=where, expected=SIDECAR_FORM, got=repr(data)[:80])
    tags = data.get("tags")
    if not isinstance(tags, dict):
        raise BadFile("bad tags file", path=where, expected=SIDECAR_FORM, got=repr(tags)[:80])
    return _with_clears(tags, where)


def _with_clears(tags: Mapping[str, Any], where: str = "") -> dict[str, str]:
    """`checked_tags`, but an empty string stays as "" (a clear) instead of being dropped."""
    checked = checked_tags(tags, where=where)
    return {**{name: "" for name, value in tags.items() if value == ""}, **checked}


def read_sidecar(session: str | os.PathLike[str]) -> dict[str, str]:
    """The tags added to `session` afterwards; {} without a sidecar."""
    path = sidecar_path(session)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableFile(path, str(error), expected="a readable UTF-8 file",
                             message="cannot read tags file") from None  # fmt: skip
    return parse_sidecar(text, where=str(path))


def recorded_tags(session: str | os.PathLike[str]) -> dict[str, str]:
    """The tags a recording was made with; {} for other session files and older recordings."""
    try:
        with open(session, "rb") as file:
            if file.read(len(MAGIC)) != MAGIC:
                return {}
    except OSError as error:
        raise UnreadableFile(session, str(error), expected="a readable session file",
                             message="cannot open session") from None  # fmt: skip
    return RecordingReader(session).tags


def read_tags(session: str | os.PathLike[str]) -> dict[str, str]:
    """The session's tags: the recorded ones, overridden name by name by the sidecar's."""
    merged = {**recorded_tags(session), **read_sidecar(session)}
    return {name: merged[name] for name in TAG_NAMES if merged.get(name)}


def write_tags(session: str | os.PathLike[str], tags: Mapping[str, Any]) -> dict[str, str]:
    """Add or change tags of `session` in its sidecar (owner-only); the session's tags after.

    Names not given keep their value; an empty string clears a tag, recorded or added.
    """
    path = Path(session)
    if not path.is_file():
        raise UnreadableFile(path, "no such file", expected="an existing session file",
                             message="no such session")  # fmt: skip
    updates = _with_clears({name: value for name, value in tags.items() if value is not None})
    sidecar = {**read_sidecar(path), **updates}
    body = {"format": SIDECAR_FORMAT, "tags": dict(sorted(sidecar.items()))}
    write_private_text(sidecar_path(path), json.dumps(body, indent=2) + "\n")
    return read_tags(path)
