"""The commands a runner and a tester use: demo, replay, report, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from demo_session import numbguard, record_demo

from numbguard.cli import main
from numbguard.pads import FOOT_IDS
from numbguard.report import SessionSeries
from numbguard.report.html import session_steps
from numbguard.report.plots import pressure_figure
from numbguard.session.sources import analyse_session


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("session") / "demo.ngrec"
    result = record_demo(path)
    assert "tight_lacing" in result.stdout or "lace" in result.stdout
    return path


def test_demo_prints_the_summary_with_the_lacing_alert(recording: Path) -> None:
    assert recording.stat().st_size > 10_000


def test_replay_json_is_the_same_byte_for_byte_twice(recording: Path) -> None:
    first = numbguard("replay", str(recording), "--json")
    second = numbguard("replay", str(recording), "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    events = [json.loads(line) for line in first.stdout.splitlines()]
    assert events[-1]["event"] == "summary"
    alerts = [e for e in events if e["event"] == "alert"]
    assert any(a["kind"] == "tight_lacing" and a["foot"] == "left" for a in alerts)
    assert any(e["event"] == "state" for e in events)


def test_truncated_recording_replays_up_to_the_damage_and_says_where(
    recording: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.ngrec"
    data = recording.read_bytes()
    cut.write_bytes(data[: len(data) // 2 + 7])
    result = numbguard("replay", str(cut), "--no-view")
    assert result.returncode == 1
    assert "recording damaged at byte" in result.stderr
    assert "steps" in result.stdout  # the part before the damage was analysed


def test_report_of_a_recording_writes_html(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(recording), "-o", str(out)]) == 0
    page = out.read_text()
    assert "tight_lacing" in page and page.count("data:image/png;base64,") == 4


def test_the_report_plots_each_foot_of_a_demo_to_its_last_sample(recording: Path) -> None:
    # A 90 s demo has 9 000 left and, with radio loss, about 8 975 right samples: the plot
    # used to reduce both to 8 000 and stop at 80 s (at 120 s, the right foot at 100 s).
    series = SessionSeries()
    analyse_session(recording, on_chunk=series.add)
    arrays = series.arrays()
    figure = pressure_figure(arrays, [], session_steps(series))
    try:
        for axis, foot in zip(figure.get_axes(), FOOT_IDS, strict=True):
            t_s = arrays[foot][0]
            assert t_s[-1] > 89.0
            for line in axis.get_lines():
                x = np.asarray(line.get_xdata(), dtype=float)
                assert (x.min(), x.max()) == (t_s[0], t_s[-1]), (foot, line.get_label())
    finally:
        plt.close(figure)


def test_export_csv_and_steps_of_a_recording(recording: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "pressures.csv"
    steps_path = tmp_path / "steps.csv"
    assert main(["export", str(recording), "--csv", str(csv_path)]) == 0
    assert main(["export", str(recording), "--steps", str(steps_path)]) == 0
    header = csv_path.read_text().splitlines()
    assert header[0] == "# sample_rate_hz=100"
    assert header[2].startswith("time_s,left.heel,")
    # The exported CSV analyses like the recording.
    analysed = numbguard("analyze", str(csv_path), "--json")
    assert analysed.returncode == 0, analysed.stderr
    assert any(a["kind"] == "tight_lacing" for a in json.loads(analysed.stdout)["alerts"])
    assert len(steps_path.read_text().splitlines()) > 100


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = numbguard("report", str(tmp_path / "nope.ngrec"))
    assert result.returncode == 2
    assert "cannot open file" in result.stderr and "expected" in result.stderr


def test_run_records_by_default_into_the_sessions_folder(tmp_path: Path) -> None:
    import os

    sessions = tmp_path / "sessions"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "numbguard",
            "run",
            "sim://normal_run?speed=max&duration_s=30",
            "--no-view",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "NUMBGUARD_SESSIONS_DIR": str(sessions)},
    )
    assert result.returncode == 0, result.stderr
    recordings = list(sessions.glob("*.ngrec"))
    assert len(recordings) == 1
    assert f"recorded to {recordings[0]}" in result.stderr
    assert (recordings[0].stat().st_mode & 0o777) == 0o600
    assert "no alerts" in result.stdout


def test_run_uses_the_given_calibration_and_replay_uses_the_recorded_one(tmp_path: Path) -> None:
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.calibration.store import save_calibration
    from numbguard.recording import JsonRecord, RecordingReader, RecordType
    from numbguard.session.replay import recorded_calibrations

    nominal = InsoleCalibration.default(foot="left")
    # An insole whose ball_center pad reads 30% more force per count than nominal.
    center = nominal.pads["ball_center"]
    calibrated = nominal.with_pad(type(center)(**{**vars(center), "gain": center.gain * 1.3}))
    cal_path = tmp_path / "left.json"
    save_calibration(calibrated, cal_path)
    recording = tmp_path / "run.ngrec"
    url = "sim://normal_run?speed=max&duration_s=40"
    live = numbguard(
        "run", url, "--json", "--record", str(recording), "--calibration", str(cal_path)
    )
    assert live.returncode == 0, live.stderr
    insoles = [
        r.value
        for r in RecordingReader(recording).records()
        if isinstance(r, JsonRecord) and r.type == RecordType.INSOLE
    ]
    assert {i["foot"] for i in insoles} == {"left", "right"}
    assert recorded_calibrations(recording)["left"].pads["ball_center"].gain == center.gain * 1.3
    replayed = numbguard("replay", str(recording), "--json")
    live_summary = json.loads(live.stdout.splitlines()[-1])["result"]
    replay_summary = json.loads(replayed.stdout.splitlines()[-1])["result"]
    assert replay_summary == live_summary
    left_peak = live_summary["feet"]["left"]["peak_kpa_median"]["ball_center"]
    right_peak = live_summary["feet"]["right"]["peak_kpa_median"]["ball_center"]
    assert left_peak > 1.15 * right_peak  # the left insole's own constants were used


def test_two_calibrations_for_one_foot_are_refused(tmp_path: Path) -> None:
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.calibration.store import save_calibration

    for name in ("a.json", "b.json"):
        save_calibration(InsoleCalibration.default(foot="right"), tmp_path / name)
    result = numbguard(
        "run", "sim://normal_run?speed=max&duration_s=5", "--no-record",
        "--calibration", str(tmp_path / "a.json"), "--calibration", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "two calibrations for one foot" in result.stderr
