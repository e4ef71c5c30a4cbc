"""Exports: a session's pressures as interchange CSV, and a tidy per-step table.

A recording's feet run on their own sample grids (each insole's clock, aligned to the host's).
The interchange CSV has one time column, so each foot's samples go to the nearest point of a
shared grid ``k / rate_hz`` (at most half a sample period away: 5 ms at 100 Hz).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
from collections.abc import Iterable, Iterator
from typing import IO, Final

import numpy as np
import numpy.typing as npt

from numbguard.analysis.gait import ContactDetector
from numbguard.errors import BadValue
from numbguard.io.interchange import InterchangeWriter, column_name
from numbguard.pads import FOOT_IDS, FOREFOOT_PADS, LACE_PADS, PAD_IDS, Foot
from numbguard.private_files import open_private_text
from numbguard.types import FloatArray, PressureChunk, StepMetrics

# A foot that falls this far behind the other (link down and not refilled) is written as
# missing rather than holding the other foot's rows in memory.
MAX_FOOT_LAG_S: Final = 30.0
# Chunks to read for the CSV export: a recording's feet come as separate chunks, so one foot
# leads the other by up to a chunk; well within the lag, neither is written as missing.
CSV_EXPORT_CHUNK_S: Final = MAX_FOOT_LAG_S / 2


class _FootGrid:
    """One foot's rows not yet written: `values[i]` is grid index `base + i` (NaN: none)."""

    def __init__(self, pads: tuple[str, ...]) -> None:
        self.pads = pads
        self.base = 0
        self.values: FloatArray = np.empty((0, len(pads)))
        self.newest_index = -1

    def put(self, indexes: npt.NDArray[np.int64], rows: FloatArray) -> None:
        """Place rows at grid indexes (at or after `base`); a later row at an index wins."""
        keep = indexes >= self.base
        indexes, rows = indexes[keep], rows[keep]
        if not len(indexes):
            return
        need = int(indexes.max()) + 1 - self.base
        if need > len(self.values):
            grown = np.full((max(need, 2 * len(self.values)), len(self.pads)), np.nan)
            grown[: len(self.values)] = self.values
            self.values = grown
        if len(indexes) < 2 or bool(np.all(np.diff(indexes) > 0)):
            self.values[indexes - self.base] = rows
        else:  # two samples on one grid index: the later one, as row by row
            for index, row in zip(indexes.tolist(), rows, strict=True):
                self.values[index - self.base] = row

    def take(self, until: int) -> FloatArray:
        """The rows from `base` up to `until` (NaN where none), and forget them."""
        block = np.full((until - self.base, len(self.pads)), np.nan)
        held = self.values[: until - self.base]
        block[: len(held)] = held
        self.values = self.values[until - self.base :].copy()
        self.base = until
        return block


def shared_grid_rows(
    chunks: Iterable[PressureChunk],
) -> Iterator[tuple[FloatArray, dict[str, FloatArray]]]:
    """Rows on a shared time grid, in blocks: (t_s, {"<foot>.<pad>": kPa}) with NaN = missing."""
    rate_hz: float | None = None
    grids: dict[Foot, _FootGrid] = {}
    next_index = 0

    def ready_until() -> int:
        # A foot not seen yet counts as behind: its first rows may still come.
        newest = [grids[foot].newest_index if foot in grids else -1 for foot in FOOT_IDS]
        lagging_allowed = max(newest) - round(MAX_FOOT_LAG_S * (rate_hz or 1.0))
        return max(min(newest), lagging_allowed) + 1

    def take(until: int) -> tuple[FloatArray, dict[str, FloatArray]]:
        indexes = np.arange(next_index, until)
        columns: dict[str, FloatArray] = {}
        for foot, grid in grids.items():
            block = grid.take(until)
            for pad_index, pad in enumerate(grid.pads):
                columns[column_name(foot, pad)] = block[:, pad_index]
        assert rate_hz is not None
        return indexes / rate_hz, columns

    for chunk in chunks:
        if rate_hz is None:
            rate_hz = chunk.sample_rate_hz
        grid = grids.get(chunk.foot)
        if grid is None:
            grid = grids[chunk.foot] = _FootGrid(tuple(chunk.pressure_kpa))
            grid.base = next_index
        indexes = np.rint(chunk.t_s * rate_hz).astype(np.int64)
        values = np.column_stack([chunk.pressure_kpa[pad] for pad in grid.pads])
        grid.put(indexes, values)
        grid.newest_index = max(grid.newest_index, int(indexes.max(initial=-1)))
        until = ready_until()
        if until > next_index:
            yield take(until)
            next_index = until
    if grids:
        until = max(grid.newest_index for grid in grids.values()) + 1
        if until > next_index:
            yield take(until)


def write_csv(
    target: str | os.PathLike[str] | IO[str], chunks: Iterable[PressureChunk], *, source: str = ""
) -> int:
    """Write chunks of both feet as interchange CSV; returns the number of rows."""
    writer: InterchangeWriter | None = None
    rows = 0
    rate_hz: float | None = None

    def remember_rate(stream: Iterable[PressureChunk]) -> Iterator[PressureChunk]:
        nonlocal rate_hz
        for chunk in stream:
            rate_hz = chunk.sample_rate_hz
            yield chunk

    try:
        for t_s, columns in shared_grid_rows(remember_rate(chunks)):
            if writer is None:
                names = [
                    column_name(foot, pad)
                    for foot in FOOT_IDS
                    for pad in PAD_IDS
                    if column_name(foot, pad) in columns
                ]
                metadata = {"source": source} if source else None
                writer = InterchangeWriter(target, names, sample_rate_hz=rate_hz, metadata=metadata)
            nan = np.full(len(t_s), np.nan)
            writer.write_rows(t_s, {name: columns.get(name, nan) for name in writer.columns})
            rows += len(t_s)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise BadValue(
            "nothing to export", expected="a session with samples", got="no samples", name="chunks"
        )
    return rows


STEP_COLUMNS: Final = (
    ["foot", "t_on_s", "t_off_s", "contact_s", "stride_s"]
    + [f"peak_kpa.{pad}" for pad in PAD_IDS]
    + [f"pti_kpa_s.{pad}" for pad in PAD_IDS]
    + ["forefoot_share", "medial_lateral_index"]
    + [f"dorsal_swing_kpa.{pad}" for pad in LACE_PADS]
    + [f"dorsal_stance_kpa.{pad}" for pad in LACE_PADS]
    + [f"forefoot_swing_kpa.{pad}" for pad in FOREFOOT_PADS]
)


def step_row(step: StepMetrics) -> dict[str, str]:
    """One step as a row of the tidy table: empty cells where a pad is absent."""

    def cell(value: float | None, digits: int) -> str:
        return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"

    row = {
        "foot": step.foot,
        "t_on_s": cell(step.t_on_s, 3),
        "t_off_s": cell(step.t_off_s, 3),
        "contact_s": cell(step.contact_s, 3),
        "stride_s": cell(step.stride_s, 3),
        "forefoot_share": cell(step.forefoot_share, 3),
        "medial_lateral_index": cell(step.medial_lateral_index, 3),
    }
    for prefix, values, digits in (
        ("peak_kpa", step.peak_kpa, 1),
        ("pti_kpa_s", step.pti_kpa_s, 2),
        ("dorsal_swing_kpa", step.dorsal_swing_kpa, 1),
        ("dorsal_stance_kpa", step.dorsal_stance_kpa, 1),
        ("forefoot_swing_kpa", step.forefoot_swing_kpa, 1),
    ):
        for pad, value in values.items():
            row[f"{prefix}.{pad}"] = cell(value, digits)
    return row


def write_steps(target: str | os.PathLike[str] | IO[str], chunks: Iterable[PressureChunk]) -> int:
    """Find the steps of both feet and write one row per step, in time order per foot."""
    detectors: dict[Foot, ContactDetector] = {}
    steps = 0
    with contextlib.ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            file: IO[str] = stack.enter_context(open_private_text(target, newline=""))
        else:
            file = target
        writer = csv.DictWriter(file, fieldnames=STEP_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for chunk in chunks:
            detector = detectors.setdefault(chunk.foot, ContactDetector(chunk.foot))
            for step in detector.update(chunk):
                writer.writerow(step_row(step))
                steps += 1
        for detector in detectors.values():
            for step in detector.finish():
                writer.writerow(step_row(step))
                steps += 1
    return steps
