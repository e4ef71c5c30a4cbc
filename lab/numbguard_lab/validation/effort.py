"""How load changes with effort, measured on the treadmill running force (`treadmill`).

Per contact of the belt force (500 Hz, the 50 N reference contacts of `treadmill`), in body
weights:

- **peak**: the largest force of the contact;
- **early peak**: the impact peak, the first local maximum in the first `EARLY_FRACTION` of
  the contact, where a rearfoot strike lands on the heel; it stands for the heel pad. A
  midfoot strike has none (NaN);
- **late peak**: the largest force after the dip that follows the impact peak (of the whole
  contact, without one): the active peak at mid-stance and the push-off over the metatarsal
  heads; it stands for the forefoot;
- **loading rate**: the mean slope from 20% to 80% of the impact peak (the vertical average
  loading rate of running-injury studies), BW/s; NaN without an impact peak;
- **contact time** and **cadence** (steps per minute, from one onset to the next: the belt
  carries both feet, so consecutive contacts are consecutive steps).

A belt force is the whole foot's load, so the early/late split is a stand-in for heel and
forefoot pads, not a pad measurement. What it grounds is the shape of the relation: how much
each part of the load moves with speed, slope, contact time and cadence, for one runner.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import numpy as np

from numbguard.types import FloatArray
from numbguard_lab.validation.treadmill import FORCE_RATE_HZ, TreadmillTrial, reference_contacts

# Of the contact time: where an impact peak can lie (10-24% on these trials).
EARLY_FRACTION: Final = 0.3


@dataclass(frozen=True)
class TrialLoad:
    """Median per-contact load and timing of one trial."""

    trial: TreadmillTrial
    n_contacts: int
    peak_bw: float
    early_peak_bw: float
    late_peak_bw: float
    loading_rate_bw_s: float
    contact_s: float
    cadence_spm: float


def _contact_load(force: FloatArray) -> tuple[float, float, float, float]:
    """(peak, impact peak, late peak, loading rate) of one contact's force samples."""
    split = max(3, round(EARLY_FRACTION * len(force)))
    rising = np.diff(force[: split + 1])
    tops = np.flatnonzero((rising[:-1] > 0) & (rising[1:] <= 0)) + 1
    if not len(tops):
        return float(np.max(force)), float("nan"), float(np.max(force)), float("nan")
    top = int(tops[0])
    impact = float(force[top])
    t20 = int(np.argmax(force[: top + 1] >= 0.2 * impact))
    t80 = int(np.argmax(force[: top + 1] >= 0.8 * impact))
    rate = (force[t80] - force[t20]) / ((t80 - t20) / FORCE_RATE_HZ) if t80 > t20 else np.nan
    # The active peak comes after the dip that follows the impact (which may be the larger).
    after = np.diff(force[top:])
    dips = np.flatnonzero((after[:-1] < 0) & (after[1:] >= 0)) + 1
    late = float(np.max(force[top + int(dips[0]) :])) if len(dips) else float("nan")
    return float(np.max(force)), impact, late, float(rate)


def _typical(values: FloatArray) -> float:
    """The median where at least half the contacts have the value, else NaN."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if 2 * len(finite) >= len(values) > 0 else float("nan")


def trial_load(trial: TreadmillTrial) -> TrialLoad:
    contacts = reference_contacts(trial.force_bw, trial.mass_kg)
    loads = []
    for on_s, off_s in contacts:
        start, stop = int(np.ceil(on_s * FORCE_RATE_HZ)), int(np.floor(off_s * FORCE_RATE_HZ))
        loads.append(_contact_load(trial.force_bw[start : stop + 1]))
    table = np.array(loads).reshape(-1, 4)
    steps_s = [b[0] - a[0] for a, b in itertools.pairwise(contacts)]
    return TrialLoad(
        trial=trial,
        n_contacts=len(contacts),
        peak_bw=float(np.median(table[:, 0])),
        early_peak_bw=_typical(table[:, 1]),
        late_peak_bw=float(np.median(table[:, 2])),
        loading_rate_bw_s=_typical(table[:, 3]),
        contact_s=float(np.median([off - on for on, off in contacts])),
        cadence_spm=60.0 / float(np.median(steps_s)),
    )


@dataclass(frozen=True)
class Fit:
    """A straight line y = intercept + slope * x over trials, and how well it holds."""

    slope: float
    intercept: float
    r: float  # Pearson correlation
    n: int

    def relative_slope(self, at_x: float) -> float:
        """The slope as a fraction of the fitted value at `at_x` (per unit of x)."""
        return self.slope / (self.intercept + self.slope * at_x)


def fit(x: list[float], y: list[float]) -> Fit:
    """A least-squares line; points without a value (NaN) are left out."""
    xs, ys = np.asarray(x), np.asarray(y)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if ok.sum() < 2:
        return Fit(float("nan"), float("nan"), float("nan"), int(ok.sum()))
    slope, intercept = np.polyfit(xs[ok], ys[ok], 1)
    r = float(np.corrcoef(xs[ok], ys[ok])[0, 1])
    return Fit(float(slope), float(intercept), r, int(ok.sum()))


def within_groups_fit(groups: list[tuple[list[float], list[float]]]) -> Fit:
    """A line through several groups (one per slope) with one slope for all: each group is
    centred on its own means first, so what differs between the groups (the hill) does not
    pass for the relation inside them. The intercept is the pooled mean of y at x's mean.
    Points without a value (NaN) are left out, and groups left with fewer than two."""
    pairs = [(np.asarray(x), np.asarray(y)) for x, y in groups]
    kept = [(x[ok], y[ok]) for x, y in pairs if (ok := np.isfinite(x) & np.isfinite(y)).sum() > 1]
    xs = [x for x, _ in kept]
    ys = [y for _, y in kept]
    dx = np.concatenate([x - x.mean() for x in xs])
    dy = np.concatenate([y - y.mean() for y in ys])
    slope = float(dx @ dy / (dx @ dx))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    intercept = float(y_all.mean() - slope * x_all.mean())
    return Fit(slope, intercept, float(np.corrcoef(dx, dy)[0, 1]), len(dx))
