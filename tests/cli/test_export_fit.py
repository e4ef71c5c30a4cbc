"""`numbguard export SESSION --fit OUT`: a FIT activity file that two independent decoders read
back (Garmin's SDK `Decoder` and `fitdecode`) with the session's steps and alerts in it."""

from __future__ import annotations

import csv
import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import fitdecode
import numpy as np
import pytest
from demo_session import numbguard, record_demo
from garmin_fit_sdk import FIT_EPOCH_S, Decoder, Profile, Stream

from numbguard.cli import main
from numbguard.pads import FOREFOOT_PADS, LACE_PADS
from numbguard.recording import RecordingReader
from numbguard.session.fit_export import (
    DEVELOPER_FIELDS,
    EVENT_FIELDS,
    RECORD_FIELDS,
    forefoot_peak_kpa,
    lace_pressure_kpa,
    read_fit_session,
    session_start_unix_s,
)
from numbguard.simulate.files import write_session


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 s of the simulated run whose left laces get too tight (a tight_lacing alert)."""
    path = tmp_path_factory.mktemp("fit") / "demo.ngrec"
    record_demo(path)
    return path


@pytest.fixture(scope="module")
def fit_file(recording: Path) -> Path:
    out = recording.with_name("demo.fit")
    result = numbguard("export", str(recording), "--fit", str(out))
    assert result.returncode == 0, result.stderr
    assert "steps" in result.stderr
    return out


def _sdk_read(path: Path) -> dict[str, list[dict[str, Any]]]:
    data = bytearray(path.read_bytes())
    decoder = Decoder(Stream.from_byte_array(data))
    assert decoder.is_fit()
    assert decoder.check_integrity()  # header and file CRCs
    messages, errors = Decoder(Stream.from_byte_array(data)).read(convert_datetimes_to_dates=False)
    assert errors == []
    return messages


def _fitdecode_read(path: Path) -> list[fitdecode.FitDataMessage]:
    with fitdecode.FitReader(
        str(path),
        check_crc=fitdecode.CrcCheck.ENABLED,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as reader:
        return [frame for frame in reader if isinstance(frame, fitdecode.FitDataMessage)]


def _fit_s(unix_s: float) -> float:
    return unix_s - FIT_EPOCH_S


def test_the_file_is_a_valid_activity_in_garmins_message_order(fit_file: Path) -> None:
    names = [frame.name for frame in _fitdecode_read(fit_file)]
    collapsed = [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]
    # Summary last: file_id, developer data, creator, timer start, records and alert events in
    # time order, timer stop, lap, session, activity.
    assert collapsed[:5] == [
        "file_id",
        "developer_data_id",
        "field_description",
        "device_info",
        "event",
    ]
    assert collapsed[-5:] == ["record", "event", "lap", "session", "activity"]
    assert set(collapsed[5:-4]) == {"record", "event"}
    messages = _sdk_read(fit_file)
    assert messages["file_id_mesgs"][0]["type"] == "activity"
    timer = [e for e in messages["event_mesgs"] if e["event"] == "timer"]
    assert [e["event_type"] for e in timer] == ["start", "stop"]
    assert len(messages["activity_mesgs"]) == 1
    assert messages["activity_mesgs"][0]["num_sessions"] == 1
    session = messages["session_mesgs"][0]
    assert session["sport"] == "running" and session["num_laps"] == 1
    assert session["total_elapsed_time"] == pytest.approx(90.0, abs=0.1)
    assert session["avg_cadence"] == 85  # the simulated 170 steps/min as strides/min
    # Timestamped messages in ascending order, as FIT requires.
    stamps = [frame.get_value("timestamp") for frame in _fitdecode_read(fit_file)
              if frame.has_field("timestamp")]  # fmt: skip
    assert stamps == sorted(stamps)


def test_developer_fields_are_described_with_names_and_units(fit_file: Path) -> None:
    descriptions = {
        frame.get_value("field_definition_number"): frame
        for frame in _fitdecode_read(fit_file)
        if frame.name == "field_description"
    }
    assert sorted(descriptions) == [field.number for field in DEVELOPER_FIELDS]
    for field in DEVELOPER_FIELDS:
        frame = descriptions[field.number]
        assert frame.get_value("field_name") == field.name
        assert (frame.get_value("units", fallback=None) or "") == field.units
        expected_type = "string" if field.units == "" else "float32"
        assert frame.get_value("fit_base_type_id") == expected_type
        expected_mesg = "record" if field in RECORD_FIELDS else "event"
        assert field in RECORD_FIELDS or field in EVENT_FIELDS
        assert frame.get_value("native_mesg_num") == expected_mesg
    # The numbers written are the profile's fit_base_type numbers (with the endian bit).
    sdk = _sdk_read(fit_file)["field_description_mesgs"]
    types = Profile["types"]["fit_base_type"]
    assert {types[d["fit_base_type_id"]] for d in sdk} == {"string", "float32"}


def test_records_are_the_sessions_steps_in_both_decoders(recording: Path, fit_file: Path) -> None:
    session = read_fit_session(recording)
    start_fit_s = _fit_s(RecordingReader(recording).session["created_unix_s"])
    steps = session.steps
    assert len(steps) > 100

    sdk_records = _sdk_read(fit_file)["record_mesgs"]
    fd_records = [frame for frame in _fitdecode_read(fit_file) if frame.name == "record"]
    assert len(sdk_records) == len(fd_records) == len(steps)
    for step, sdk, fd in zip(steps, sdk_records, fd_records, strict=True):
        assert sdk["timestamp"] == math.floor(start_fit_s + step.t_on_s)
        assert fd.get_value("timestamp").timestamp() - FIT_EPOCH_S == sdk["timestamp"]
        dev = sdk["developer_fields"]
        expected = {
            "foot": step.foot,
            "lace_pressure": lace_pressure_kpa(step),
            "forefoot_peak": forefoot_peak_kpa(step),
            "contact_time": step.contact_s,
        }
        for field in RECORD_FIELDS:
            value = expected[field.name]
            fd_value = fd.get_value(field.name, fallback=None)
            if value is None:
                assert field.number not in dev and fd_value is None
            elif isinstance(value, str):
                assert dev[field.number] == fd_value == value
            else:  # float32 in the file: equal to the session's value rounded to float32
                assert dev[field.number] == fd_value == float(np.float32(value))
        assert sdk["stance_time"] == pytest.approx(step.contact_s * 1000.0, abs=0.05)
        if step.stride_s is None:
            assert "cadence" not in sdk and fd.get_value("cadence", fallback=None) is None
        else:
            cadence = sdk["cadence"] + sdk["fractional_cadence"]
            assert cadence == pytest.approx(60.0 / step.stride_s, abs=1 / 256)
            assert fd.get_value("cadence") + fd.get_value("fractional_cadence") == cadence


def test_records_match_the_per_step_table(recording: Path, fit_file: Path, tmp_path: Path) -> None:
    """Against the `--steps` export, a separate output of the same session."""
    table = tmp_path / "steps.csv"
    assert main(["export", str(recording), "--steps", str(table)]) == 0
    with table.open(newline="") as file:
        rows = sorted(csv.DictReader(file), key=lambda row: (float(row["t_on_s"]), row["foot"]))
    records = [frame for frame in _fitdecode_read(fit_file) if frame.name == "record"]
    assert len(records) == len(rows)

    def highest(row: dict[str, str], columns: list[str]) -> float | None:
        cells = [float(row[c]) for c in columns if row.get(c)]
        return max(cells) if cells else None

    start_fit_s = _fit_s(RecordingReader(recording).session["created_unix_s"])
    for row, record in zip(rows, records, strict=True):
        assert record.get_value("foot") == row["foot"]
        strike_fit_s = start_fit_s + float(row["t_on_s"])
        assert 0 <= strike_fit_s - (record.get_value("timestamp").timestamp() - FIT_EPOCH_S) < 1.001
        assert record.get_value("contact_time") == pytest.approx(float(row["contact_s"]), abs=6e-4)
        lace = highest(row, [f"dorsal_swing_kpa.{pad}" for pad in LACE_PADS])
        assert record.get_value("lace_pressure", fallback=None) == (
            None if lace is None else pytest.approx(lace, abs=0.051)
        )
        peak = highest(row, [f"peak_kpa.{pad}" for pad in FOREFOOT_PADS])
        assert record.get_value("forefoot_peak") == pytest.approx(peak, abs=0.051)
        if row["stride_s"]:
            cadence = record.get_value("cadence") + record.get_value("fractional_cadence")
            assert cadence == pytest.approx(60.0 / float(row["stride_s"]), abs=0.1)


def test_alerts_are_events_with_their_kind(recording: Path, fit_file: Path) -> None:
    analysed = numbguard("analyze", str(recording), "--json")
    assert analysed.returncode == 0, analysed.stderr
    alerts = json.loads(analysed.stdout)["alerts"]
    assert any(a["kind"] == "tight_lacing" and a["foot"] == "left" for a in alerts)

    start_fit_s = _fit_s(RecordingReader(recording).session["created_unix_s"])
    sdk_events = [e for e in _sdk_read(fit_file)["event_mesgs"] if e["event"] == "user_marker"]
    fd_events = [
        frame for frame in _fitdecode_read(fit_file)
        if frame.name == "event" and frame.get_value("event") == "user_marker"
    ]  # fmt: skip
    assert len(sdk_events) == len(fd_events) == len(alerts)
    numbers = {field.name: field.number for field in EVENT_FIELDS}
    for alert, sdk, fd in zip(alerts, sdk_events, fd_events, strict=True):
        assert sdk["event_type"] == fd.get_value("event_type") == "marker"
        assert sdk["timestamp"] == math.floor(start_fit_s + alert["t_s"])
        state = "cleared" if alert["evidence"].get("state") == "cleared" else "raised"
        for name, value in (
            ("alert_kind", alert["kind"]),
            ("alert_foot", alert["foot"]),
            ("alert_severity", alert["severity"]),
            ("alert_state", state),
        ):
            assert sdk["developer_fields"][numbers[name]] == fd.get_value(name) == value


def test_the_file_is_owner_only_even_over_an_existing_file(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.fit"
    out.write_bytes(b"old")
    out.chmod(0o644)
    assert main(["export", str(recording), "--fit", str(out)]) == 0
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_bytes()[8:12] == b".FIT"
    assert [p.name for p in tmp_path.iterdir()] == ["again.fit"]  # no part file left


def test_an_unreadable_session_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.fit"
    result = numbguard("export", str(tmp_path / "nope.ngrec"), "--fit", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "numbguard export:" in result.stderr and "cannot open file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_session_that_is_not_a_session_is_a_one_line_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("hello\n")
    result = numbguard("export", str(junk), "--fit", str(tmp_path / "out.fit"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.csv"]


def test_an_unwritable_output_is_a_one_line_error(recording: Path, tmp_path: Path) -> None:
    result = numbguard("export", str(recording), "--fit", str(tmp_path / "no" / "out.fit"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cannot write file" in result.stderr and "expected a writable path" in result.stderr


def test_a_csv_starts_at_its_modification_time_or_at_start(tmp_path: Path) -> None:
    files = write_session("tight_lacing", tmp_path, duration_s=60.0)
    mtime_s = 1_700_000_000.0
    os.utime(files.csv_path, (mtime_s, mtime_s))
    out = tmp_path / "csv.fit"
    result = numbguard("export", str(files.csv_path), "--fit", str(out))
    assert result.returncode == 0, result.stderr
    assert "has no start time" in result.stderr and "--start" in result.stderr
    file_id = _sdk_read(out)["file_id_mesgs"][0]
    assert file_id["time_created"] == int(_fit_s(mtime_s))

    result = numbguard(
        "export", str(files.csv_path), "--fit", str(out), "--start", "2026-05-01T07:30:00+02:00"
    )
    assert result.returncode == 0, result.stderr
    assert "has no start time" not in result.stderr
    messages = _sdk_read(out)
    start = datetime.fromisoformat("2026-05-01T05:30:00+00:00").timestamp()
    assert messages["file_id_mesgs"][0]["time_created"] == int(_fit_s(start))
    # The CSV has the lace pads: after each foot's first swing every step carries them.
    records = messages["record_mesgs"]
    assert sum(1 for r in records if 1 not in r["developer_fields"]) <= 2
    assert any(e["event"] == "user_marker" for e in messages["event_mesgs"])


def test_a_bad_start_is_a_clear_error(recording: Path, tmp_path: Path) -> None:
    result = numbguard(
        "export", str(recording), "--fit", str(tmp_path / "x.fit"), "--start", "yesterday"
    )
    assert result.returncode == 2
    assert "bad start time" in result.stderr and "'yesterday'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_moticon_exports_start_at_their_start_time_line(tmp_path: Path) -> None:
    export = tmp_path / "moticon.txt"
    export.write_text("# Start time: 27.09.2023 10:21:37.465\n# time\tleft pressure 1[N/cm²]\n")
    start_s, source = session_start_unix_s(export)
    assert source == "moticon"
    assert start_s == datetime(2023, 9, 27, 10, 21, 37, 465000).timestamp()  # local time


@pytest.mark.parametrize("start", ["1995-01-01T00:00:00+00:00", "1900-01-01T00:00:00+00:00"])
def test_a_start_that_fit_cannot_hold_as_a_date_is_refused(
    recording: Path, tmp_path: Path, start: str
) -> None:
    out = tmp_path / "x.fit"
    result = numbguard("export", str(recording), "--fit", str(out), "--start", start)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "start time out of range" in result.stderr and "--start" in result.stderr
    assert list(tmp_path.iterdir()) == []
