"""Files that hold a person's data are created readable by their owner only.

Each writer runs under a permissive umask, over a file that already exists world-readable (an
earlier version, or one the user made): the result is 0600 either way.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.store import save_calibration
from numbguard.history.index import SessionIndex
from numbguard.history.tags import sidecar_path, write_tags
from numbguard.private_files import ensure_private_file, open_private_text, write_private_text
from numbguard.recording import RecordingWriter
from numbguard.transports.pairing import PairedInsole, PairingRegistry
from numbguard.web.token import web_token


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def world_readable(path: Path) -> Path:
    path.write_text("old\n")
    path.chmod(0o644)
    return path


def test_write_private_text_replaces_a_world_readable_file(tmp_path: Path) -> None:
    path = write_private_text(world_readable(tmp_path / "a.txt"), "new\n")
    assert path.read_text() == "new\n"
    assert mode_of(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no part file left


def test_open_private_text_truncates_and_restricts(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "b.csv")
    with open_private_text(path, newline="") as file:
        file.write("x\n")
    assert path.read_text() == "x\n"
    assert mode_of(path) == 0o600


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "c.txt")
    with pytest.raises(TypeError):
        write_private_text(path, 42)  # type: ignore[arg-type]
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


def test_calibrations_are_owner_only(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "left.json")
    save_calibration(InsoleCalibration.default(foot="left", insole_id=7), path)
    assert mode_of(path) == 0o600


def test_the_pairing_store_is_owner_only(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "paired-insoles.json")
    path.write_text("{}")
    registry = PairingRegistry(path)
    registry.remember(PairedInsole("left", 7, "AA:BB:CC:DD:EE:FF", "numbguard-L"))
    assert mode_of(path) == 0o600


def test_the_web_token_is_owner_only(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "web-token")
    web_token(path=path)  # "old" is too short to be a token: replaced
    assert mode_of(path) == 0o600


def numbguard(*argv: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "numbguard", *map(str, argv)], check=True,
                   capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("session")
    numbguard("simulate", "--scenario", "normal_run", "--duration-s", "30", "--out", out)
    return out / "normal_run.csv"


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (("report",), "report.html"),
        (("export", "--csv"), "pressures.csv"),
        (("export", "--steps"), "steps.csv"),
        (("export", "--fit"), "activity.fit"),
    ],
)
def test_reports_and_exports_are_owner_only(
    command: tuple[str, ...], name: str, session_csv: Path, tmp_path: Path
) -> None:
    out = world_readable(tmp_path / name)
    if command == ("report",):
        numbguard("report", session_csv, "--out", out)
    else:
        numbguard(*command, out, session_csv)
    assert out.stat().st_size > 3
    assert mode_of(out) == 0o600


def test_ensure_private_file_restricts_an_existing_file(tmp_path: Path) -> None:
    path = ensure_private_file(world_readable(tmp_path / "d.db"))
    assert path.read_text() == "old\n"  # kept, only its mode changes
    assert mode_of(path) == 0o600
    assert mode_of(ensure_private_file(tmp_path / "new.db")) == 0o600


def test_the_session_index_and_a_tags_sidecar_are_owner_only(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    index.touch(mode=0o644)
    index.chmod(0o644)
    with SessionIndex(index):
        pass
    assert mode_of(index) == 0o600
    session = tmp_path / "s.ngrec"
    RecordingWriter(session, {}).close()
    world_readable(sidecar_path(session)).write_text('{"format": 1, "tags": {}}')
    write_tags(session, {"shoe": "Pegasus"})
    assert mode_of(sidecar_path(session)) == 0o600
