"""The built wheel is the product only, and carries the firmware `numbguard flash` puts on
(and the live page `--web` serves).

Builds the wheel the way `pip install numbguard` would (pip, isolated build, setup.py's
build step), unpacks it into a folder of its own, and runs `numbguard flash --stage-frozen`
from there, away from any checkout: the firmware staged is the one this checkout holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # From a copy of what a source release holds: a build in the checkout would reuse its
    # build/ folder, and files deleted since could ship.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.mpy")
    for folder in ("host", "firmware"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (built,) = out.glob("numbguard-*.whl")
    return built


def test_the_wheel_holds_the_firmware_and_no_test_code(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {Path(name).name for name in names if name.startswith("numbguard/firmware/")}
    assert shipped == {path.name for path in (ROOT / "firmware").glob("*.py")}
    assert not [name for name in names if name.startswith(("tests/", "numbguard/lab/"))]
    assert not [name for name in names if name.endswith((".mpy", ".pyc"))]
    assert "numbguard/web/page.html" in names  # --web serves it from the package


def test_flash_from_an_installed_wheel_finds_its_firmware(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "import numbguard; print(numbguard.__file__)"],
        check=True, capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(site)
    staged = tmp_path / "frozen"
    done = subprocess.run(
        [sys.executable, "-m", "numbguard", "flash", "--stage-frozen", str(staged)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    staged_bytes = sorted(path.read_bytes() for path in (staged / "modules").glob("*.py"))
    assert staged_bytes == sorted(path.read_bytes() for path in (ROOT / "firmware").glob("*.py"))
