"""`numbguard evaluate --jobs N`: one process per file, the same evaluation as one job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from numbguard.cli import main
from numbguard.errors import InputError
from numbguard.evaluate import evaluate_folder
from numbguard.simulate.files import write_session

SCENARIOS = ("normal_run", "tight_lacing", "sensor_fault_shorted", "forefoot_overload")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("labelled")
    for seed, name in enumerate(SCENARIOS):
        write_session(name, out, seed=seed, duration_s=120.0)
    return out


def test_any_number_of_jobs_gives_the_one_job_evaluation(folder: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    one = evaluate_folder(folder, jobs=1, progress=lambda *step: seen.append(step))
    two = evaluate_folder(folder, jobs=2)
    many = evaluate_folder(folder, jobs=8)
    assert one.to_json() == two.to_json() == many.to_json()
    assert one.to_json()["sessions"] == len(SCENARIOS)
    names = sorted(SCENARIOS)
    assert seen == [(0, 4, names[0])] + [
        (k + 1, 4, names[k + 1] if k + 1 < 4 else "") for k in range(4)
    ]


def test_the_command_prints_the_same_json_for_one_and_two_jobs(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(folder), "--json", "--jobs", "1"]) == 0
    one = capsys.readouterr()
    assert main(["evaluate", str(folder), "--json", "--jobs", "2"]) == 0
    two = capsys.readouterr()
    assert json.loads(one.out) == json.loads(two.out)
    assert "evaluate: 4/4" in two.err  # progress on stderr


def test_zero_jobs_is_an_error_that_says_what_was_expected(folder: Path) -> None:
    with pytest.raises(InputError, match="expected 1 or more"):
        evaluate_folder(folder, jobs=0)
