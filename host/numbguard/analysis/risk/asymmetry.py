"""asymmetry: one foot carries much more forefoot load than the other, for a long time.

The only rule across both feet. Windows of the two feet are paired by their start time (in
window steps); a pair counts when both feet load cyclically. Load is the summed mean pressure
of the forefoot pads usable on *both* feet in that window, so a faulty pad on one side does not
look like asymmetry. Index: (L - R) / ((L + R) / 2); the more loaded foot gets the alert.
Windows where either foot peaks at the forefoot overload hold level are left out: that load is
`forefoot_overload`'s to report, and one cause should not raise two alerts. Thresholds are
configurable judgements, with a rise over the runner's own first-minute index.
Feet may arrive in any interleaving: windows wait until their pair arrives, at most
`MAX_WAITING` of them per foot (an hour at 2 s windows), so a session with one insole only
keeps bounded memory.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from numbguard.analysis.risk.alerting import AlertTracker, Assessment, constant_pads
from numbguard.analysis.risk.baseline import Baseline
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, stacked
from numbguard.analysis.types import Alert, FloatArray
from numbguard.pads import FOOT_IDS, FOREFOOT_PADS, Foot

_KIND = "asymmetry"
MAX_WAITING = 1800


class BilateralAsymmetry:
    """Pairs the screened windows of both feet and tracks an asymmetry alert per foot."""

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        # Per foot: windows not yet paired, as (key, t_end_s, active, forefoot means).
        self._waiting: dict[Foot, deque[tuple[int, float, bool, FloatArray]]] = {
            foot: deque(maxlen=MAX_WAITING) for foot in FOOT_IDS
        }
        self._baseline = Baseline(round(config.baseline_s / config.window_s))
        self._trackers = {
            foot: AlertTracker(
                foot,
                _KIND,
                window_s=config.window_s,
                persist_s=config.persist_s,
                recover_s=config.recover_s,
                repeat_s=config.repeat_s,
                dose_alert_kpa_s=None,
            )
            for foot in FOOT_IDS
        }

    def waiting(self, foot: Foot) -> int:
        """Windows of `foot` still waiting for the other foot's."""
        return len(self._waiting[foot])

    def __call__(self, foot: Foot, batch: WindowBatch, active: BoolArray) -> list[Alert]:
        means = stacked(batch, FOREFOOT_PADS, "mean_kpa")  # (3, windows), NaN where unusable
        peaks = filled(stacked(batch, FOREFOOT_PADS, "max_kpa"), 0.0).max(axis=0)
        usable = active & (peaks < self._config.forefoot_peak_off_kpa)
        keys = np.round(batch.t_start_s / self._config.window_s).astype(np.int64)
        waiting = self._waiting[foot]
        for i in range(len(batch)):
            waiting.append((int(keys[i]), float(batch.t_end_s[i]), bool(usable[i]), means[:, i]))
        return self._pair()

    def _pair(self) -> list[Alert]:
        left, right = self._waiting["left"], self._waiting["right"]
        rows: list[tuple[float, bool, FloatArray, FloatArray]] = []
        while left and right:
            if left[0][0] < right[0][0]:
                left.popleft()  # no partner will come (gap on the other foot)
            elif right[0][0] < left[0][0]:
                right.popleft()
            else:
                _, t_left, active_left, means_left = left.popleft()
                _, t_right, active_right, means_right = right.popleft()
                both = active_left and active_right
                rows.append((max(t_left, t_right), both, means_left, means_right))
        if not rows:
            return []
        return self._assess(rows)

    def _assess(self, rows: list[tuple[float, bool, FloatArray, FloatArray]]) -> list[Alert]:
        c = self._config
        t_end = np.array([row[0] for row in rows])
        both_active = np.array([row[1] for row in rows])
        left = np.vstack([row[2] for row in rows])
        right = np.vstack([row[3] for row in rows])
        common = np.isfinite(left) & np.isfinite(right)
        load_left = np.where(common, left, 0.0).sum(axis=1)
        load_right = np.where(common, right, 0.0).sum(axis=1)
        total = load_left + load_right
        assessable = both_active & common.any(axis=1) & (total > 0)
        index = np.where(
            assessable, (load_left - load_right) / np.where(total > 0, total / 2, 1.0), np.nan
        )
        magnitude = np.abs(filled(index, 0.0))
        baseline = self._baseline.resolve(np.abs(index), assessable)
        rise = filled(magnitude - baseline, 0.0)
        on = (magnitude >= c.asymmetry_on) | (
            (magnitude >= c.asymmetry_off) & (rise >= c.asymmetry_rise)
        )
        hold = magnitude >= c.asymmetry_off
        events: list[Alert] = []
        sides: tuple[tuple[Foot, float], ...] = (("left", 1.0), ("right", -1.0))
        for foot, sign in sides:
            heavier = filled(index, 0.0) * sign > 0
            assessment = Assessment(
                t_end_s=t_end,
                assessable=assessable,
                on=on & heavier,
                hold=hold & heavier,
                severe=np.zeros(len(rows), dtype=bool),
                dose_kpa_s=np.zeros(len(rows)),
                pads=constant_pads(FOREFOOT_PADS),
                evidence={
                    "asymmetry_index": index * sign,
                    "baseline_index": baseline,
                    f"{foot}_forefoot_kpa": load_left if foot == "left" else load_right,
                },
            )
            events += self._trackers[foot].update(assessment)
        return events
