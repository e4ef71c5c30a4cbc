"""Exports: shared-grid CSV that reads back as the same pressures, and the per-step table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from numbguard.io.interchange import InterchangeReader
from numbguard.live.recording_sink import RecordingSink
from numbguard.recording import RecordingWriter
from numbguard.session.export import STEP_COLUMNS, shared_grid_rows, write_csv, write_steps
from numbguard.session.replay import recording_chunks
from numbguard.session.runner import SessionRunner
from numbguard.simulate import SessionSimulator, build_scenario
from numbguard.types import PressureChunk

RATE_HZ = 100.0


def _chunk(foot: str, start: int, n: int, offset_s: float, value: float) -> PressureChunk:
    t_s = (start + np.arange(n)) / RATE_HZ + offset_s
    return PressureChunk(foot, t_s, {"ball_center": np.full(n, value)}, RATE_HZ)  # type: ignore[arg-type]


def test_feet_with_sub_sample_offsets_share_rows() -> None:
    chunks = [
        _chunk("left", 0, 100, 0.003, 1.0),
        _chunk("right", 0, 50, -0.004, 2.0),
        _chunk("right", 50, 50, -0.004, 2.0),
    ]
    blocks = list(shared_grid_rows(chunks))
    t_s = np.concatenate([t for t, _ in blocks])
    left = np.concatenate([c["left.ball_center"] for _, c in blocks])
    right = np.concatenate([c["right.ball_center"] for _, c in blocks])
    np.testing.assert_allclose(t_s, np.arange(100) / RATE_HZ)
    assert (left == 1.0).all() and (right == 2.0).all()


def test_a_foot_that_stops_is_written_as_missing_without_holding_the_other() -> None:
    chunks = [_chunk("left", 0, 100, 0.0, 1.0)] + [
        _chunk("right", i * 100, 100, 0.0, 2.0) for i in range(40)
    ]
    blocks = list(shared_grid_rows(chunks))
    # Rows were released before the end: the right foot did not wait for the left forever.
    assert len(blocks) > 2
    left = np.concatenate([c["left.ball_center"] for _, c in blocks])
    assert len(left) == 4000
    assert (left[:100] == 1.0).all() and np.isnan(left[100:]).all()


def test_recording_exports_to_csv_that_reads_back(tmp_path: Path) -> None:
    from tests.session.test_runner import _drive

    recording = tmp_path / "run.ngrec"
    with RecordingWriter(recording, {"source": "emulator"}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder)])
        _drive(runner, 10.0, loss=0.0, seed=2)
        runner.finish()
    out = tmp_path / "run.csv"
    rows = write_csv(out, recording_chunks(recording), source=str(recording))
    assert rows > 900
    reader = InterchangeReader(out, chunk_s=100.0)
    chunks = list(reader)
    assert reader.sample_rate_hz == RATE_HZ
    by_foot = {c.foot: c for c in chunks}
    assert set(by_foot) == {"left", "right"}
    original = [c for c in recording_chunks(recording) if c.foot == "left"]
    left_center = np.concatenate([c.pressure_kpa["ball_center"] for c in original])
    read_back = by_foot["left"].pressure_kpa["ball_center"]
    finite = np.isfinite(read_back)
    assert finite.sum() >= len(left_center) - 1
    np.testing.assert_allclose(read_back[finite][:500], left_center[:500], rtol=1e-5, atol=1e-3)


def test_step_table_has_one_row_per_step_with_named_columns() -> None:
    simulator = SessionSimulator(build_scenario("normal_run", duration_s=60.0), seed=1)
    out = io.StringIO()
    steps = write_steps(out, simulator.chunks(5.0))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == steps
    assert list(rows[0]) == STEP_COLUMNS
    left = [r for r in rows if r["foot"] == "left"]
    # 170 steps/min with both feet: 85 strides a minute per foot.
    assert 75 <= len(left) <= 90
    assert all(float(r["peak_kpa.ball_center"]) > 100 for r in left[1:])
