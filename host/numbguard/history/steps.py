"""One session's per-step numbers, the material of the index and of a comparison.

Per foot and step: the lace pressure (the higher lace pad's median pressure in the swing
before the step: the static pressure the tight-lacing rule judges), the forefoot peak (the
highest forefoot pad's peak over the contact), and each pad's own value (plantar pads: the
step's peak; lace pads: the swing pressure), as the report's per-step figure shows them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from numbguard.analysis.gait import GaitTracker
from numbguard.analysis.pipeline import SessionResult
from numbguard.pads import FOOT_IDS, FOREFOOT_PADS, LACE_PADS, PAD_IDS, Foot
from numbguard.recording import RecordingReader
from numbguard.session.sources import analyse_session, is_recording
from numbguard.types import FloatArray, PressureChunk, StepMetrics

LACE_KPA: Final = "lace_kpa"
FOREFOOT_PEAK_KPA: Final = "forefoot_peak_kpa"
SUMMARY_METRICS: Final = (LACE_KPA, FOREFOOT_PEAK_KPA)
BATCH_S: Final = 10.0  # samples a step collector gathers before running the contact detector


@dataclass(frozen=True)
class SessionSteps:
    """A session's summary and, per foot, each metric's per-step values in step order
    (`SUMMARY_METRICS` and one series per pad id; NaN where a step has no value)."""

    path: Path
    start_unix_s: float
    duration_s: float
    cadence_spm: float | None
    alerts_raised: int  # alerts raised (warning or alert), not their clearing
    alerts_by_kind: dict[str, int]
    values: dict[Foot, dict[str, FloatArray]]
    warning: str | None = None

    @property
    def alerts_per_h(self) -> float | None:
        return self.alerts_raised / (self.duration_s / 3600.0) if self.duration_s > 0 else None

    def median(self, foot: Foot, metric: str) -> float | None:
        """The median over the steps with a value; None if there are none."""
        series = self.values.get(foot, {}).get(metric)
        if series is None or not np.isfinite(series).any():
            return None
        return float(np.nanmedian(series))


def step_values(steps: list[StepMetrics]) -> dict[str, FloatArray]:
    """Each metric's value per step (NaN where the step's insole lacks the pads)."""
    columns: dict[str, list[float]] = {name: [] for name in (*SUMMARY_METRICS, *PAD_IDS)}
    for step in steps:
        lace = [step.dorsal_swing_kpa[p] for p in LACE_PADS if p in step.dorsal_swing_kpa]
        forefoot = [step.peak_kpa[p] for p in FOREFOOT_PADS if p in step.peak_kpa]
        columns[LACE_KPA].append(_highest(lace))
        columns[FOREFOOT_PEAK_KPA].append(_highest(forefoot))
        for pad in PAD_IDS:
            source = step.dorsal_swing_kpa if pad in LACE_PADS else step.peak_kpa
            columns[pad].append(float(source.get(pad, math.nan)))
    return {
        name: np.asarray(values, dtype=np.float64)
        for name, values in columns.items()
        if np.isfinite(values).any()
    }


def _highest(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan


class StepCollector:
    """The steps of a session's chunks as they go by: a live run gives its per-step numbers
    at its end without its recording being analysed again (`on_chunk` of the runner)."""

    def __init__(self) -> None:
        self._tracker = GaitTracker()
        self._steps: list[StepMetrics] = []
        self._pending: dict[Foot, list[PressureChunk]] = {}

    def add(self, chunk: PressureChunk) -> None:
        # A live run hands over one frame's samples at a time; the contact detector costs per
        # call, and its steps do not depend on the chunking, so take `BATCH_S` at once.
        pending = self._pending.setdefault(chunk.foot, [])
        if pending and set(pending[0].pressure_kpa) != set(chunk.pressure_kpa):
            self._flush(chunk.foot)
            pending = self._pending[chunk.foot]
        pending.append(chunk)
        if sum(len(c.t_s) for c in pending) >= BATCH_S * chunk.sample_rate_hz:
            self._flush(chunk.foot)

    def _flush(self, foot: Foot) -> None:
        pending = self._pending.get(foot)
        if not pending:
            return
        self._pending[foot] = []
        merged = PressureChunk(
            foot,
            np.concatenate([c.t_s for c in pending]),
            {pad: np.concatenate([c.pressure_kpa[pad] for c in pending])
             for pad in pending[0].pressure_kpa},
            pending[-1].sample_rate_hz,
        )  # fmt: skip
        self._steps += self._tracker.update(merged)

    def session_steps(
        self, path: str | os.PathLike[str], result: SessionResult, warning: str | None = None
    ) -> SessionSteps:
        """The session's numbers, from its analysis `result` and the steps collected."""
        for foot in list(self._pending):
            self._flush(foot)
        steps = self._steps + self._tracker.finish()
        by_foot = {
            foot: step_values(sorted((s for s in steps if s.foot == foot), key=lambda s: s.t_on_s))
            for foot in FOOT_IDS
            if foot in result.feet
        }
        by_kind: dict[str, int] = {}
        for alert in result.alerts:
            if alert.severity != "info":
                by_kind[alert.kind] = by_kind.get(alert.kind, 0) + 1
        return SessionSteps(
            path=Path(path),
            start_unix_s=_start_unix_s(Path(path), result.duration_s),
            duration_s=result.duration_s,
            cadence_spm=result.cadence_spm,
            alerts_raised=sum(by_kind.values()),
            alerts_by_kind=dict(sorted(by_kind.items())),
            values=by_foot,
            warning=warning,
        )


def read_session_steps(path: str | os.PathLike[str]) -> SessionSteps:
    """Analyse a session file (recording, CSV, Moticon export) for its per-step numbers."""
    collector = StepCollector()
    result, warning = analyse_session(path, on_chunk=collector.add)
    return collector.session_steps(path, result, warning)


def _start_unix_s(path: Path, duration_s: float) -> float:
    """A recording's creation time; for other files, their modification time less the
    session's length (the file was written when the session ended)."""
    if is_recording(path):
        created = RecordingReader(path).session.get("created_unix_s")
        if isinstance(created, (int, float)) and math.isfinite(created):
            return float(created)
    return path.stat().st_mtime - duration_s
