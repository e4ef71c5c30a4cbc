"""asymmetry: one foot carries much more forefoot load than the other, for a long time.

The only rule across both feet. Windows of the two feet are paired by their start time (in
window steps); a pair counts when both feet load cyclically. Load is the summed mean pressure
of the forefoot pads usable on *both* feet in that window, so a faulty pad on one side does not
look like asymmetry. Index: (L - R) / ((L + R) / 2); the more loaded foot gets the alert.
Windows where a foot peaks (per step) at the forefoot overload hold level are left out: that
load is `forefoot_overload`'s to report, and one cause should not raise two alerts, unless the
lighter foot carries `asymmetry_spared_drop` less than its own baseline load: then it is being
spared (a limp, which a heavy runner's peaks pass 400 kPa in too), and that is this rule's
cause. Thresholds are configurable judgements, with a rise over the runner's own baseline
index (per bout of the left foot, `risk/bouts.py`).
Feet may arrive in any interleaving: windows wait until their pair arrives, at most
`MAX_WAITING` of them per foot (an hour at 2 s windows), so a session with one insole only
keeps bounded memory.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from numbguard.analysis.risk.alerting import AlertTracker, Assessment, constant_pads
from numbguard.analysis.risk.baseline import new_baseline
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, Bouts, WindowBatch, filled, stacked
from numbguard.pads import FOOT_IDS, FOREFOOT_PADS, Foot
from numbguard.types import Alert, FloatArray

_KIND = "asymmetry"
MAX_WAITING = 1800


class _Window(NamedTuple):
    """One foot's window waiting for its pair."""

    key: int
    t_end_s: float
    active: bool
    overloaded: bool  # peaks at the overload hold level
    load_ratio: float  # forefoot load per step over the foot's own baseline (NaN: none yet)
    bout: int
    steady: bool
    means: FloatArray


class BilateralAsymmetry:
    """Pairs the screened windows of both feet and tracks an asymmetry alert per foot."""

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        # Per foot: windows not yet paired.
        self._waiting: dict[Foot, deque[_Window]] = {
            foot: deque(maxlen=MAX_WAITING) for foot in FOOT_IDS
        }
        self._baseline = new_baseline(config)
        self._load_baselines = {foot: new_baseline(config) for foot in FOOT_IDS}
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
        step_peaks = stacked(batch, FOREFOOT_PADS, "step_peak_kpa")
        overloaded = filled(step_peaks, 0.0).max(axis=0) >= self._config.forefoot_peak_off_kpa
        # Load per step (the sum of the pads' step peaks), which does not depend on how many
        # steps fall in a window, unlike the window mean.
        load = np.where(np.isfinite(step_peaks).all(axis=0), step_peaks.sum(axis=0), np.nan)
        own = self._load_baselines[foot].resolve(load, active, batch.bouts)
        ratio = load / np.where(own > 0, own, np.nan)
        bouts = batch.bouts
        keys = np.round(batch.t_start_s / self._config.window_s).astype(np.int64)
        waiting = self._waiting[foot]
        for i in range(len(batch)):
            waiting.append(
                _Window(
                    int(keys[i]),
                    float(batch.t_end_s[i]),
                    bool(active[i]),
                    bool(overloaded[i]),
                    float(ratio[i]),
                    int(bouts.bout[i]) if bouts is not None else 0,
                    bool(bouts.steady[i]) if bouts is not None else True,
                    means[:, i],
                )
            )
        return self._pair()

    def _pair(self) -> list[Alert]:
        left, right = self._waiting["left"], self._waiting["right"]
        rows: list[tuple[_Window, _Window]] = []
        while left and right:
            if left[0].key < right[0].key:
                left.popleft()  # no partner will come (gap on the other foot)
            elif right[0].key < left[0].key:
                right.popleft()
            else:
                rows.append((left.popleft(), right.popleft()))
        if not rows:
            return []
        return self._assess(rows)

    def _assess(self, rows: list[tuple[_Window, _Window]]) -> list[Alert]:
        c = self._config
        t_end = np.array([max(a.t_end_s, b.t_end_s) for a, b in rows])
        both_active = np.array([a.active and b.active for a, b in rows])
        overloaded = np.array([a.overloaded or b.overloaded for a, b in rows])
        ratios = np.array([(a.load_ratio, b.load_ratio) for a, b in rows])
        bouts = Bouts(
            activity=np.zeros(len(rows), dtype=np.int8),
            bout=np.array([a.bout for a, _ in rows], dtype=np.int64),
            steady=np.array([a.steady and b.steady for a, b in rows]),
        )
        left = np.vstack([a.means for a, _ in rows])
        right = np.vstack([b.means for _, b in rows])
        common = np.isfinite(left) & np.isfinite(right)
        load_left = np.where(common, left, 0.0).sum(axis=1)
        load_right = np.where(common, right, 0.0).sum(axis=1)
        total = load_left + load_right
        # The lighter foot's load over its own baseline: well under it, that foot is spared.
        lighter_ratio = np.where(load_left < load_right, ratios[:, 0], ratios[:, 1])
        spared = filled(lighter_ratio, np.inf) <= 1.0 - c.asymmetry_spared_drop
        assessable = both_active & common.any(axis=1) & (total > 0) & (~overloaded | spared)
        index = np.where(
            assessable, (load_left - load_right) / np.where(total > 0, total / 2, 1.0), np.nan
        )
        magnitude = np.abs(filled(index, 0.0))
        baseline = self._baseline.resolve(np.abs(index), assessable & ~overloaded, bouts)
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
