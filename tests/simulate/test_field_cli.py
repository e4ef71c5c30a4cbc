"""`numbguard simulate --field DIR` and `numbguard evaluate DIR` on the field set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from numbguard.cli import main
from numbguard.simulate.field import FIELD_NAMES


def test_simulate_field_writes_every_field_session_and_evaluate_scores_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "field"
    # 20 Hz keeps the test quick; the set is the same plan at any rate.
    assert main(["simulate", "--field", str(out), "--sample-rate-hz", "20", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / f"{name}.csv") for name in FIELD_NAMES]
    assert f"simulate: {len(FIELD_NAMES)}/{len(FIELD_NAMES)} lace_pad_flat" in captured.err
    sidecar = json.loads((out / "sweat_leak.labels.json").read_text())
    assert sidecar["duration_s"] == 600.0 and sidecar["seed"] == 3
    (label,) = sidecar["labels"]
    assert label["kind"] == "sensor_fault" and label["advice"].startswith("Dry the insole")
    assert json.loads((out / "hills.labels.json").read_text())["labels"] == []

    assert main(["evaluate", str(out), "--json"]) == 0
    headline = json.loads(capsys.readouterr().out)["headline"]
    assert headline["caught_within_60_s"]["of"] == 11
    assert headline["normal_sessions_alerted"]["of"] == 5
    assert headline["right_advice"]["of"] == 11
    assert headline["normal_hours"] == pytest.approx(5670 / 3600, abs=1e-3)

    assert main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "labelled conditions caught within 60 s of onset: " in text
    assert "false alerts per hour of normal running: " in text
    assert "normal sessions that raised any alert: " in text
    assert "right advice given: " in text


def test_field_scenarios_by_name_and_their_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--scenario", "lace_pad_flat", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "lace_pad_flat.csv").exists()
    capsys.readouterr()
    args = ["simulate", "--scenario", "hills", "--out", str(tmp_path), "--duration-s", "60"]
    assert main(args) == 2
    assert "a field scenario has its own length" in capsys.readouterr().err
    assert main(["simulate", "--field", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "two output folders" in capsys.readouterr().err
    assert main(["simulate", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(f"\n{name} " in "\n" + listed for name in FIELD_NAMES)
