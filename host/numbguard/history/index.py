"""The index of a runner's sessions: one row per session file, in an owner-only sqlite file.

A row holds what `numbguard history` lists and filters on: when, how long, the tags, the
cadence, per foot the per-step medians of the lace pressure and the forefoot peak, and the
alerts per hour. A row is stale when its session file or its tags sidecar changed (by
modification time) since it was made; `refresh` re-analyses those.

The file carries its schema version (table `schema`); an index of another version, or one that
is not an sqlite database, raises `UnusableIndexError`, one line saying how to rebuild it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from numbguard.errors import InputError, NumbguardError, UnreadableFile
from numbguard.history.steps import FOREFOOT_PEAK_KPA, LACE_KPA, SessionSteps, read_session_steps
from numbguard.history.tags import read_tags, sidecar_path
from numbguard.pads import FOOT_IDS
from numbguard.private_files import ensure_private_file

SCHEMA_VERSION: Final = 1
RECORDING_GLOB: Final = "*.ngrec"

logger = logging.getLogger(__name__)

_COLUMNS: Final = (
    ("path", "TEXT PRIMARY KEY"),
    ("mtime_ns", "INTEGER NOT NULL"),
    ("tags_mtime_ns", "INTEGER NOT NULL"),  # 0 without a sidecar
    ("start_unix_s", "REAL NOT NULL"),
    ("duration_s", "REAL NOT NULL"),
    ("shoe", "TEXT"),
    ("lacing", "TEXT"),
    ("note", "TEXT"),
    ("cadence_spm", "REAL"),
    ("lace_kpa_left", "REAL"),
    ("lace_kpa_right", "REAL"),
    ("forefoot_peak_kpa_left", "REAL"),
    ("forefoot_peak_kpa_right", "REAL"),
    ("alerts_per_h", "REAL"),
)
_NAMES: Final = tuple(name for name, _ in _COLUMNS)


class UnusableIndexError(NumbguardError):
    """The index file cannot be used as it is (corrupt, or another schema version)."""


@dataclass(frozen=True)
class IndexedSession:
    """One session as the index holds it (medians per step, per foot; None when unknown)."""

    path: str
    mtime_ns: int
    tags_mtime_ns: int
    start_unix_s: float
    duration_s: float
    shoe: str | None
    lacing: str | None
    note: str | None
    cadence_spm: float | None
    lace_kpa_left: float | None
    lace_kpa_right: float | None
    forefoot_peak_kpa_left: float | None
    forefoot_peak_kpa_right: float | None
    alerts_per_h: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _stamp(path: Path) -> tuple[int, int]:
    """What makes a row stale when it changes: the session's and its sidecar's mtimes."""
    return _mtime_ns(path), _mtime_ns(sidecar_path(path))


def row_for(steps: SessionSteps, tags: dict[str, str]) -> IndexedSession:
    """The index row of an analysed session with its tags."""
    path = steps.path.resolve()
    medians = {
        f"{metric}_{foot}": steps.median(foot, metric)
        for metric in (LACE_KPA, FOREFOOT_PEAK_KPA)
        for foot in FOOT_IDS
    }
    return IndexedSession(
        path=str(path),
        mtime_ns=_mtime_ns(path),
        tags_mtime_ns=_mtime_ns(sidecar_path(path)),
        start_unix_s=steps.start_unix_s,
        duration_s=steps.duration_s,
        shoe=tags.get("shoe"),
        lacing=tags.get("lacing"),
        note=tags.get("note"),
        cadence_spm=steps.cadence_spm,
        alerts_per_h=steps.alerts_per_h,
        **medians,
    )


class SessionIndex:
    """The index file at `path`, created owner-only (0600) with its schema if missing."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        ensure_private_file(self.path)  # before sqlite opens it: the journal takes its mode
        self._db = sqlite3.connect(self.path)
        try:
            self._prepare()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise self._unusable(f"not a numbguard index ({error})") from None

    def _unusable(self, why: str) -> UnusableIndexError:
        return UnusableIndexError(
            f"the session index {self.path} cannot be read: {why} (expected a numbguard index "
            f"of schema {SCHEMA_VERSION}); rebuild it: delete the file and run "
            "`numbguard history DIR` over your session folders"
        )

    def _prepare(self) -> None:
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if not tables:
            with self._db:
                self._db.execute("CREATE TABLE schema (version INTEGER NOT NULL)")
                self._db.execute("INSERT INTO schema VALUES (?)", (SCHEMA_VERSION,))
                columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
                self._db.execute(f"CREATE TABLE sessions ({columns})")
            return
        if "schema" not in tables or "sessions" not in tables:
            raise self._unusable(f"it holds the tables {sorted(tables)}")
        versions = [row[0] for row in self._db.execute("SELECT version FROM schema")]
        if versions != [SCHEMA_VERSION]:
            raise self._unusable(f"schema version {versions}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def put(self, row: IndexedSession) -> None:
        values = asdict(row)
        marks = ", ".join("?" for _ in _NAMES)
        try:
            with self._db:
                self._db.execute(
                    f"INSERT OR REPLACE INTO sessions ({', '.join(_NAMES)}) VALUES ({marks})",
                    tuple(values[name] for name in _NAMES),
                )
        except sqlite3.DatabaseError as error:
            raise self._unusable(str(error)) from None

    def add(self, session: str | os.PathLike[str]) -> IndexedSession:
        """Analyse `session` and put (or replace) its row."""
        row = row_for(read_session_steps(session), read_tags(session))
        self.put(row)
        return row

    def remove(self, path: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM sessions WHERE path = ?", (path,))

    def refresh(self, folders: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
        """Index new recordings in `folders`, re-index stale rows, drop rows whose file is
        gone. Returns one warning per session that could not be read (it stays unindexed)."""
        known = {row.path: row for row in self.sessions()}
        todo: list[Path] = []
        for row in known.values():
            path = Path(row.path)
            if not path.exists():
                self.remove(row.path)
            elif _stamp(path) != (row.mtime_ns, row.tags_mtime_ns):
                todo.append(path)
        for folder in folders:
            if not Path(folder).is_dir():
                raise UnreadableFile(folder, "no such folder", expected="a folder of recordings",
                                     message="cannot open folder")  # fmt: skip
            todo += [p for p in sorted(Path(folder).rglob(RECORDING_GLOB))
                     if str(p.resolve()) not in known]  # fmt: skip
        warnings = []
        for path in dict.fromkeys(p.resolve() for p in todo):
            try:
                self.add(path)
            except InputError as error:
                warnings.append(f"{path}: not indexed: {error}")
                logger.warning("%s: not indexed: %s", path, error)
        return warnings

    # -- reading ---------------------------------------------------------------------------

    def sessions(
        self,
        *,
        shoe: str | None = None,
        lacing: str | None = None,
        since_unix_s: float | None = None,
        until_unix_s: float | None = None,
    ) -> list[IndexedSession]:
        """The indexed sessions, oldest first; tags match exactly, times by session start."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("shoe", shoe), ("lacing", lacing)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since_unix_s is not None:
            where.append("start_unix_s >= ?")
            params.append(since_unix_s)
        if until_unix_s is not None:
            where.append("start_unix_s < ?")
            params.append(until_unix_s)
        query = f"SELECT {', '.join(_NAMES)} FROM sessions"
        if where:
            query += " WHERE " + " AND ".join(where)
        return list(self._rows(query + " ORDER BY start_unix_s, path", params))

    def _rows(self, query: str, params: list[Any]) -> Iterator[IndexedSession]:
        try:
            rows = self._db.execute(query, params).fetchall()
        except sqlite3.DatabaseError as error:
            raise self._unusable(str(error)) from None
        for row in rows:
            yield IndexedSession(**dict(zip(_NAMES, row, strict=True)))
