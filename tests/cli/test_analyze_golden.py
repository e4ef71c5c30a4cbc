"""`numbguard analyze --json` on every simulated scenario, compared with checked-in output.

The expected output lives in tests/golden/<scenario>.json. After an intended change of the
analysis (or of the simulator), regenerate and review the diff:

    NUMBGUARD_UPDATE_GOLDEN=1 python -m pytest tests/cli/test_analyze_golden.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import pytest

from numbguard.cli import analyze
from numbguard.simulate import SCENARIO_NAMES
from numbguard.simulate.files import write_session

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
DURATION_S = 120.0
SEED = 11
UPDATE = os.environ.get("NUMBGUARD_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("simulated")
    for name in SCENARIO_NAMES:
        write_session(name, out, seed=SEED, duration_s=DURATION_S)
    return out


def analyze_json(path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    assert analyze.run(parser.parse_args([str(path), "--json"])) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object, on one line
    return json.loads(out)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_analyze_json_matches_golden(
    name: str, session_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = analyze_json(session_dir / f"{name}.csv", capsys)
    golden = GOLDEN_DIR / f"{name}.json"
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run with NUMBGUARD_UPDATE_GOLDEN=1"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    # Alerts first: the part that matters most gives the clearest failure.
    assert result["alerts"] == expected["alerts"]
    assert result == expected


def test_golden_files_show_the_labelled_conditions() -> None:
    """The checked-in outputs themselves make sense: alerts only where a label says so."""
    for name in SCENARIO_NAMES:
        golden = json.loads((GOLDEN_DIR / f"{name}.json").read_text(encoding="utf-8"))
        kinds = {alert["kind"] for alert in golden["alerts"]}
        if name.startswith("sensor_fault"):
            assert kinds == {"sensor_fault"}, name
        elif name in ("tight_lacing", "tight_lacing_both", "tight_lacing_packet_loss"):
            assert kinds == {"tight_lacing"}, name
        elif name.startswith(("forefoot_overload", "metatarsal_hotspot", "unrelieved", "asym")):
            assert kinds == {name.removesuffix("_no_heel")}, name
        else:
            assert kinds == set(), name
