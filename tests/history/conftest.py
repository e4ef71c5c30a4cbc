"""Simulated recordings whose answer is known, made once through `numbguard demo --record`.

Loose: a steady run without heel pads (the runner's laces as they should be), two seeds.
Tight: the same insoles with both shoes laced too tight from the start. The lace pressure of
the tight sessions is higher by construction (docs: the simulator's lace static pressure).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numbguard.cli import main

SECONDS = "90"
SESSIONS = {
    "loose_a": ("normal_run_no_heel", 3, ["--lacing", "loose", "--shoe", "Pegasus"]),
    "loose_b": ("normal_run_no_heel", 4, ["--lacing", "loose", "--shoe", "Pegasus"]),
    "tight": ("tight_lacing_both", 3, ["--lacing", "tight", "--shoe", "Pegasus",
                                       "--note", "double knot"]),
}  # fmt: skip


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("sessions")
    with pytest.MonkeyPatch.context() as patch:
        # Session-scoped, so before the autouse index fixture: keep demo's indexing private.
        patch.setenv("NUMBGUARD_INDEX", str(folder.parent / "made-with.sqlite3"))
        paths = {}
        for name, (scenario, seed, tags) in SESSIONS.items():
            path = paths[name] = folder / f"{name}.ngrec"
            argv = ["demo", "--scenario", scenario, "--seed", str(seed), "--speed", "0",
                    "--loss", "0", "--duration-s", SECONDS, "--record", str(path),
                    "--no-view", "--quiet", *tags]  # fmt: skip
            assert main(argv) == 0
    yield paths


@pytest.fixture
def folder_of(recordings: dict[str, Path]) -> Path:
    return recordings["tight"].parent
