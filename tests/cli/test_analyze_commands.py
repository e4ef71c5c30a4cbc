"""The analyze, simulate and evaluate commands through the `numbguard` entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from numbguard.cli import main


def test_simulate_then_evaluate_then_analyze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sessions"
    names = ["normal_run", "tight_lacing", "sensor_fault_shorted"]
    args = ["simulate", "--out", str(out), "--duration-s", "90", "--seed", "2"]
    for name in names:
        args += ["--scenario", name]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / f"{name}.csv") for name in names]
    assert "simulate: 3/3 sensor_fault_shorted" in captured.err  # progress on stderr
    sidecar = json.loads((out / "tight_lacing.labels.json").read_text())
    assert sidecar["labels"] == [
        {"kind": "tight_lacing", "foot": "left", "onset_s": 34.5, "end_s": 90.0}
    ]

    assert main(["evaluate", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sessions"] == 3
    assert report["kinds"]["tight_lacing"]["detections"] == 1
    assert report["kinds"]["sensor_fault"]["detections"] == 1
    assert all(row["false_alerts"] == 0 for row in report["kinds"].values())

    assert main(["evaluate", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["kind", "labels", "detect"]
    assert "3 sessions" in table

    assert main(["analyze", str(out / "tight_lacing.csv")]) == 0
    summary = capsys.readouterr().out
    assert "1 alert(s)" in summary
    assert "left foot, lace upper: sustained lace pressure" in summary
    assert "- Loosen the laces over the pressure point." in summary
    assert "lace_static_kpa=" in summary and "condition_s=12.0" in summary


def test_simulate_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert "unrelieved_pressure" in listed and "crossing_stops" in listed


def test_bad_inputs_give_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,left.toe\n0.0,1\n")
    assert main(["analyze", str(bad)]) == 2
    assert "left.toe" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no labelled sessions" in capsys.readouterr().err
    assert main(["simulate", "--scenario", "marathon", "--out", str(tmp_path)]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2
    assert "cannot open" in capsys.readouterr().err


def test_analyze_reads_a_native_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "demo.ngrec"
    demo = ["demo", "--no-view", "--speed", "0", "--duration-s", "60", "--record", str(recording)]
    assert main(demo) == 0
    capsys.readouterr()
    assert main(["analyze", str(recording), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["duration_s"] == pytest.approx(60.0, abs=1.0)
    assert result["feet"]["left"]["steps"] > 50
    assert [a["kind"] for a in result["alerts"]] == ["tight_lacing"]
