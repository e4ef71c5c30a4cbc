"""The session index: owner-only, versioned, filled when a recorded run ends, refreshed from
folders and by modification time, filtered by tag and date; a damaged index says how to
rebuild it."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from numbguard.cli import main
from numbguard.cli.history import parse_date
from numbguard.errors import InputError
from numbguard.history.index import SCHEMA_VERSION, SessionIndex, UnusableIndexError
from numbguard.history.paths import index_path
from numbguard.history.tags import write_tags
from numbguard.simulate.files import write_session


def test_the_index_path_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NUMBGUARD_INDEX", str(tmp_path / "mine.sqlite3"))
    assert index_path() == tmp_path / "mine.sqlite3"
    monkeypatch.delenv("NUMBGUARD_INDEX")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert index_path() == tmp_path / "data" / "numbguard" / "index.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert index_path() == Path.home() / ".local" / "share" / "numbguard" / "index.sqlite3"


def test_the_index_is_created_owner_only_with_its_schema_version(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        SessionIndex(tmp_path / "new" / "index.sqlite3").close()
    finally:
        os.umask(old_umask)
    path = tmp_path / "new" / "index.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema").fetchall() == [(SCHEMA_VERSION,)]


def test_a_recorded_demo_is_indexed_when_it_ends(
    private_session_index: Path, tmp_path: Path
) -> None:
    path = tmp_path / "run.ngrec"
    argv = ["demo", "--scenario", "tight_lacing", "--speed", "0", "--duration-s", "60",
            "--record", str(path), "--no-view", "--quiet", "--lacing", "loose"]  # fmt: skip
    assert main(argv) == 0
    with SessionIndex(private_session_index) as index:
        (row,) = index.sessions()
    assert row.path == str(path.resolve())
    assert row.lacing == "loose" and row.shoe is None
    assert row.duration_s == pytest.approx(60.0, abs=0.5)
    assert row.cadence_spm == pytest.approx(170.0, abs=3.0)
    assert row.alerts_per_h == pytest.approx(60.0, rel=0.01)  # one alert in a minute
    # Left laces tightened at 23 s of 60: most of its steps press; the right foot stays loose.
    assert row.lace_kpa_left is not None and row.lace_kpa_left > 20.0
    assert row.lace_kpa_right is not None and 3.0 < row.lace_kpa_right < 8.0
    assert row.forefoot_peak_kpa_right is not None and row.forefoot_peak_kpa_right > 100.0
    # Made from the live run's own chunks: the same row as analysing the recording afterwards.
    with SessionIndex(tmp_path / "again.sqlite3") as again:
        assert again.add(path) == row


def test_history_indexes_a_folder_and_lists_it(
    folder_of: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NUMBGUARD_SESSIONS_DIR", str(tmp_path))  # the default folder: empty
    assert main(["history", str(folder_of)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["start", "min", "shoe", "lacing"]
    assert sorted(line.split()[-1] for line in lines[1:]) == [
        "loose_a.ngrec", "loose_b.ngrec", "tight.ngrec"]  # fmt: skip
    assert main(["history", "--lacing", "tight", "--json"]) == 0  # indexed already: no folder
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["shoe"], row["lacing"], row["note"]) == ("Pegasus", "tight", "double knot")
    assert row["lace_kpa_left"] > 20.0 and row["alerts_per_h"] > 0.0


def test_rows_follow_their_files(private_session_index: Path, tmp_path: Path) -> None:
    csv = write_session("normal_run", tmp_path, duration_s=30.0).csv_path
    with SessionIndex(private_session_index) as index:
        index.add(csv)
        assert index.sessions()[0].lacing is None
        write_tags(csv, {"lacing": "runner's loop"})  # a new sidecar makes the row stale
        assert index.refresh() == []
        assert [row.lacing for row in index.sessions()] == ["runner's loop"]
        csv.unlink()
        index.refresh()
        assert index.sessions() == []


def test_filters_by_tag_and_date(private_session_index: Path, tmp_path: Path) -> None:
    days = {"2026-03-01": "Pegasus", "2026-03-05": "Clifton", "2026-03-09": "Pegasus"}
    with SessionIndex(private_session_index) as index:
        for day, shoe in days.items():
            csv = write_session("walking", tmp_path / day, duration_s=30.0).csv_path
            write_tags(csv, {"shoe": shoe, "lacing": "loose" if shoe == "Pegasus" else "tight"})
            ended = datetime.fromisoformat(f"{day}T08:00").timestamp()
            os.utime(csv, (ended, ended))  # a CSV session starts its length before its mtime
            index.add(csv)

        def days_of(**query: object) -> list[str]:
            rows = index.sessions(**query)  # type: ignore[arg-type]
            return [datetime.fromtimestamp(row.start_unix_s).date().isoformat() for row in rows]

        assert days_of() == list(days)
        assert days_of(shoe="Pegasus") == ["2026-03-01", "2026-03-09"]
        assert days_of(lacing="tight") == ["2026-03-05"]
        assert days_of(shoe="Clifton", lacing="loose") == []
        assert days_of(since_unix_s=parse_date("2026-03-05")) == ["2026-03-05", "2026-03-09"]
        assert days_of(until_unix_s=parse_date("2026-03-05", end=True)) == [
            "2026-03-01", "2026-03-05"]  # fmt: skip
        week = {"since_unix_s": parse_date("2026-03-02"),
                "until_unix_s": parse_date("2026-03-08", end=True)}  # fmt: skip
        assert days_of(**week) == ["2026-03-05"]


def test_a_bad_date_says_what_was_expected(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--since", "March"]) == 2
    assert "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM; got 'March'" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["not sqlite", "other schema", "other tables"])
def test_a_damaged_index_gives_one_line_saying_how_to_rebuild(
    private_session_index: Path, damage: str
) -> None:
    if damage == "not sqlite":
        private_session_index.write_bytes(b"this is no database\n" * 100)
    else:
        with sqlite3.connect(private_session_index) as db:
            if damage == "other schema":
                SessionIndex(private_session_index).close()
                db.execute("UPDATE schema SET version = 99")
            else:
                db.execute("CREATE TABLE notes (x)")
    with pytest.raises(UnusableIndexError, match="rebuild it: delete the file"):
        SessionIndex(private_session_index)
    run = subprocess.run([sys.executable, "-m", "numbguard", "history"], capture_output=True,
                         text=True, check=False, env=dict(os.environ))  # fmt: skip
    assert run.returncode == 2
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"numbguard history: the session index {private_session_index} ")
    assert "numbguard history DIR" in line


@given(st.text(max_size=30))
def test_any_date_text_gives_a_time_or_an_input_error(text: str) -> None:
    try:
        start, end = parse_date(text), parse_date(text, end=True)
    except InputError as error:
        assert "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM" in str(error)
        return
    assert start <= end


def test_a_run_still_ends_well_when_its_index_is_damaged(
    private_session_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private_session_index.write_bytes(b"garbage" * 200)
    path = tmp_path / "run.ngrec"
    argv = ["demo", "--scenario", "walking", "--speed", "0", "--duration-s", "30",
            "--record", str(path), "--no-view", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert path.exists()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"numbguard: warning: {path} is not in the session index: ")
    assert "rebuild it" in line
