"""Session tags: recorded with the run, added later in a sidecar that wins, the recording
never rewritten; recordings made before tags existed read as untagged."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from numbguard.cli import main
from numbguard.errors import InputError
from numbguard.history.tags import parse_sidecar, read_tags, sidecar_path, write_tags
from numbguard.recording import RecordingReader, RecordingWriter


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_stores_its_tags_in_the_session_record(recordings: dict[str, Path]) -> None:
    reader = RecordingReader(recordings["tight"])
    assert reader.session["tags"] == {"lacing": "tight", "note": "double knot", "shoe": "Pegasus"}
    assert reader.tags == {"lacing": "tight", "note": "double knot", "shoe": "Pegasus"}


def test_a_recording_from_before_tags_reads_untagged(tmp_path: Path) -> None:
    path = tmp_path / "old.ngrec"
    RecordingWriter(path, {"source": "sim://normal_run"}).close()
    assert "tags" not in RecordingReader(path).session
    assert RecordingReader(path).tags == {}
    assert read_tags(path) == {}


def test_tags_added_later_win_and_leave_the_recording_untouched(
    recordings: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "tight.ngrec"
    path.write_bytes(recordings["tight"].read_bytes())
    before = digest(path)
    old_umask = os.umask(0o022)  # permissive: the sidecar is 0600 all the same
    try:
        after = write_tags(path, {"lacing": "loosened at 5 km", "shoe": None})
    finally:
        os.umask(old_umask)
    assert after == {"shoe": "Pegasus", "lacing": "loosened at 5 km", "note": "double knot"}
    assert digest(path) == before  # the lossless recording is never rewritten
    assert stat.S_IMODE(sidecar_path(path).stat().st_mode) == 0o600
    # An empty value clears a recorded tag; a second write keeps the first one's changes.
    assert write_tags(path, {"note": ""}) == {"shoe": "Pegasus", "lacing": "loosened at 5 km"}
    assert json.loads(sidecar_path(path).read_text())["tags"] == {
        "lacing": "loosened at 5 km",
        "note": "",
    }
    assert RecordingReader(path).tags["lacing"] == "tight"  # still as recorded


def test_the_tag_command_round_trips(
    recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "loose.ngrec"
    path.write_bytes(recordings["loose_a"].read_bytes())
    assert main(["tag", str(path), "--shoe", "Clifton 9", "--note", "new insoles"]) == 0
    assert "shoe=Clifton 9, lacing=loose, note=new insoles" in capsys.readouterr().out
    assert main(["tag", str(path)]) == 0  # no options: shows the tags
    assert capsys.readouterr().out.strip() == "shoe=Clifton 9, lacing=loose, note=new insoles"
    assert read_tags(path) == {"shoe": "Clifton 9", "lacing": "loose", "note": "new insoles"}


def test_a_csv_session_takes_tags_too(tmp_path: Path) -> None:
    from numbguard.simulate.files import write_session

    csv = write_session("normal_run", tmp_path, duration_s=30.0).csv_path
    assert read_tags(csv) == {}
    assert write_tags(csv, {"lacing": "heel lock"}) == {"lacing": "heel lock"}


def test_an_unknown_tag_or_a_missing_session_says_what_was_expected(tmp_path: Path) -> None:
    session = tmp_path / "s.ngrec"
    RecordingWriter(session, {}).close()
    with pytest.raises(InputError, match="expected one of shoe, lacing, note; got 'colour'"):
        write_tags(session, {"colour": "red"})
    with pytest.raises(InputError, match="no such session"):
        write_tags(tmp_path / "none.ngrec", {"shoe": "x"})
    with pytest.raises(InputError, match="expected text of at most 500 characters"):
        RecordingWriter(tmp_path / "long.ngrec", {}, tags={"note": "x" * 501})


def test_a_damaged_sidecar_says_where_and_what_came(tmp_path: Path) -> None:
    session = tmp_path / "s.ngrec"
    RecordingWriter(session, {}).close()
    sidecar_path(session).write_text('{"format": 1, "tags": ["shoe"]}')
    with pytest.raises(InputError, match=r"s\.ngrec\.tags\.json: bad tags file .*got \['shoe'\]"):
        read_tags(session)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


@given(st.one_of(
    st.text(max_size=200),
    JSON.map(json.dumps),
    st.dictionaries(st.sampled_from(["shoe", "lacing", "note", "x"]), JSON, max_size=4).map(
        lambda tags: json.dumps({"format": 1, "tags": tags})),
))  # fmt: skip
def test_any_sidecar_text_gives_tags_or_an_input_error(text: str) -> None:
    try:
        tags = parse_sidecar(text, where="fuzz.tags.json")
    except InputError as error:
        assert str(error).startswith(("fuzz.tags.json: ", "fuzz.tags.json line "))
        return
    assert set(tags) <= {"shoe", "lacing", "note"}
    assert all(isinstance(value, str) for value in tags.values())


@pytest.mark.parametrize(
    "argv",
    [["demo", "--lacing", "loose"], ["run", "sim://normal_run?speed=max", "--no-record",
                                     "--shoe", "Pegasus"]],
)  # fmt: skip
def test_tags_without_a_recording_are_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--no-view", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "tags need a recording (expected a recorded session" in err
    assert "with nothing recorded)" in err
