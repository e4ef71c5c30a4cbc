"""metatarsal_hotspot: load concentrated on one part of the ball of the foot.

Two signatures of a tight forefoot / narrow toe box (the pattern the brief describes between
the metatarsal heads), both only while the foot is moving:

- share: one forefoot pad carries most of the forefoot load (mean pressure share over a
  window; needs all three forefoot pads), at a per-step peak of at least 200 kPa (the
  "relieved" reference of Diabetes Care 34(7):1595); or that pad's share rose well above its
  *own* share in the runner's baseline (so load moving onto the medial pad counts as soon as
  it moves, not only once it outweighs the centre pad's usual share);
- swing: one forefoot pad keeps pressure through swing (window 10th percentile >= ~10.7 kPa,
  Lundborg 1983) while the other forefoot pads unload.

Share thresholds are configurable judgements (a normal run puts ~0.45 on the centre pad).
Concentrated load that also passes the overload level is this rule's cause, not
`forefoot_overload`'s (which defers to both signatures, `ForefootShares` and
`swing_signature`), so it gets the toe-box advice; past `forefoot_severe_kpa` it escalates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.baseline import new_baseline
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, pick, stacked, top_of
from numbguard.pads import FOREFOOT_PADS
from numbguard.types import FloatArray


@dataclass(frozen=True)
class ShareVerdict:
    """The share signature over `m` windows."""

    share: FloatArray  # share of the concentrating (top) pad, NaN if not all pads present
    baseline: FloatArray  # that pad's own baseline share
    row: npt.NDArray[np.intp]  # the concentrating pad, an index into the forefoot pads
    top_mean_kpa: FloatArray
    top_peak_kpa: FloatArray  # its mean per-step peak
    on: BoolArray
    hold: BoolArray


class ForefootShares:
    """Each forefoot pad's share of the forefoot load, against its own baseline share."""

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        self._config = config
        self._pads = tuple(pad for pad in FOREFOOT_PADS if pad in pads)
        self._baselines = [new_baseline(config) for _ in self._pads]

    def judge(self, batch: WindowBatch, active: BoolArray) -> ShareVerdict:
        c = self._config
        means = stacked(batch, self._pads, "mean_kpa")
        peaks = stacked(batch, self._pads, "step_peak_kpa")
        complete = len(self._pads) == len(FOREFOOT_PADS)
        all_present = np.isfinite(means).all(axis=0) & complete
        total = np.where(all_present, np.nansum(means, axis=0) if self._pads else 0.0, np.nan)
        usable = all_present & (filled(total, 0.0) > 0)
        shares = np.where(usable, means / np.where(usable, total, 1.0), np.nan)
        top_mean, row = top_of(means)
        share = np.where(usable, pick(shares, row), np.nan) if self._pads else total
        top_peak = pick(peaks, row) if self._pads else total
        loaded = filled(top_peak, 0.0) >= c.hotspot_min_peak_kpa
        eligible = active & usable & loaded
        own = (
            np.vstack(
                [b.resolve(shares[i], eligible, batch.bouts) for i, b in enumerate(self._baselines)]
            )
            if self._pads
            else np.full((0, len(batch)), np.nan)
        )
        baseline = pick(own, row) if self._pads else total
        share_value = filled(share, 0.0)
        rise = filled(share - baseline, 0.0)
        on = loaded & (
            (share_value >= c.hotspot_share_on)
            | ((share_value >= c.hotspot_share_off) & (rise >= c.hotspot_share_rise))
        )
        hold = loaded & (share_value >= c.hotspot_share_off)
        return ShareVerdict(share, baseline, row, top_mean, top_peak, on & active, hold & active)


@dataclass(frozen=True)
class SwingVerdict:
    """The swing signature over `m` windows: one forefoot pad keeps pressure through swing
    while the others unload."""

    level_kpa: FloatArray  # the highest forefoot swing level (10th percentile)
    row: npt.NDArray[np.intp]  # its pad, an index into the forefoot pads
    others_kpa: FloatArray  # the next highest, NaN if there is no other pad
    on: BoolArray
    hold: BoolArray


def swing_signature(batch: WindowBatch, pads: tuple[str, ...], config: RiskConfig) -> SwingVerdict:
    c = config
    swing = stacked(batch, pads, "p10_kpa")
    swing_top, swing_row = top_of(swing)
    swing_level = filled(swing_top, 0.0)
    # The other pads' swing level: the second largest, i.e. the top after removing the top.
    others = np.where(np.arange(swing.shape[0])[:, None] == swing_row[None, :], np.nan, swing)
    others_top, _ = top_of(others)
    others_unload = filled(others_top, np.inf) <= c.hotspot_swing_other_max_kpa
    return SwingVerdict(
        level_kpa=swing_top,
        row=swing_row,
        others_kpa=others_top,
        on=others_unload & (swing_level >= c.hotspot_swing_on_kpa),
        hold=others_unload & (swing_level >= 0.75 * c.hotspot_swing_on_kpa),
    )


class MetatarsalHotspot(PadGroupRule):
    kind = "metatarsal_hotspot"
    pad_group = FOREFOOT_PADS

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        super().__init__(config, pads)
        self._shares = ForefootShares(config, pads)

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        shares = self._shares.judge(batch, active)
        swing = swing_signature(batch, self._pads, c)
        swing_on, swing_hold, swing_row = swing.on, swing.hold, swing.row
        swing_top, others_top = swing.level_kpa, swing.others_kpa

        on = shares.on | swing_on
        # The pad behind a window: the swing pad when only the swing signature holds.
        pad_row = np.where(shares.on | ~swing_on, shares.row, swing_row)
        share_value = filled(shares.share, 0.0)
        peak = filled(shares.top_peak_kpa, 0.0)
        return Assessment(
            t_end_s=batch.t_end_s,
            assessable=active & (np.isfinite(shares.share) | np.isfinite(others_top)),
            on=on,
            hold=shares.hold | swing_hold,
            severe=shares.hold
            & ((share_value >= c.hotspot_severe_share) | (peak >= c.forefoot_severe_kpa)),
            dose_kpa_s=filled(shares.top_mean_kpa, 0.0) * c.window_s,
            pads=pads_by_index(self._pads, pad_row),
            evidence={
                "top_share": shares.share,
                "baseline_share": shares.baseline,
                "top_peak_kpa": shares.top_peak_kpa,
                "swing_kpa": swing_top,
            },
        )
