"""metatarsal_hotspot: load concentrated on one part of the ball of the foot.

Two signatures of a tight forefoot / narrow toe box (the pattern the brief describes between
the metatarsal heads), both only while the foot is moving:

- share: one forefoot pad carries most of the forefoot load (mean pressure share over a
  window; needs all three forefoot pads), at a peak of at least 200 kPa (the "relieved"
  reference of Diabetes Care 34(7):1595); or the share rose well above the runner's own
  first-minute share;
- swing: one forefoot pad keeps pressure through swing (window 10th percentile >= ~10.7 kPa,
  Lundborg 1983) while the other forefoot pads unload.

Share thresholds are configurable judgements (a normal run puts ~0.45 on the centre pad).
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, pick, stacked, top_of
from numbguard.pads import FOREFOOT_PADS


class MetatarsalHotspot(PadGroupRule):
    kind = "metatarsal_hotspot"
    pad_group = FOREFOOT_PADS

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        means = stacked(batch, self._pads, "mean_kpa")
        peaks = stacked(batch, self._pads, "max_kpa")
        swing = stacked(batch, self._pads, "p10_kpa")
        all_present = np.isfinite(means).all(axis=0) & (len(self._pads) == len(FOREFOOT_PADS))
        total = np.where(all_present, np.nansum(means, axis=0) if len(self._pads) else 0.0, np.nan)
        top_mean, row = top_of(means)
        safe_total = np.where(total > 0, total, 1.0)
        share = np.where(all_present & (total > 0), top_mean / safe_total, np.nan)
        top_peak = pick(peaks, row) if len(self._pads) else share
        loaded = filled(top_peak, 0.0) >= c.hotspot_min_peak_kpa
        share_value = filled(share, 0.0)
        baseline = self._baseline.resolve(share, active & all_present & loaded)
        rise = filled(share - baseline, 0.0)

        swing_top, swing_row = top_of(swing)
        swing_level = filled(swing_top, 0.0)
        # The other pads' swing level: the second largest, i.e. the top after removing the top.
        others = np.where(np.arange(swing.shape[0])[:, None] == swing_row[None, :], np.nan, swing)
        others_top, _ = top_of(others)
        others_unload = filled(others_top, np.inf) <= c.hotspot_swing_other_max_kpa
        swing_on = others_unload & (swing_level >= c.hotspot_swing_on_kpa)
        swing_hold = others_unload & (swing_level >= 0.75 * c.hotspot_swing_on_kpa)

        share_on = loaded & (
            (share_value >= c.hotspot_share_on)
            | ((share_value >= c.hotspot_share_off) & (rise >= c.hotspot_share_rise))
        )
        share_hold = loaded & (share_value >= c.hotspot_share_off)
        on = share_on | swing_on
        # The pad behind a window: the swing pad when only the swing signature holds.
        pad_row = np.where(share_on | ~swing_on, row, swing_row)
        return Assessment(
            t_end_s=batch.t_end_s,
            assessable=active & (np.isfinite(share) | np.isfinite(others_top)),
            on=on,
            hold=share_hold | swing_hold,
            severe=loaded & (share_value >= c.hotspot_severe_share),
            dose_kpa_s=filled(top_mean, 0.0) * c.window_s,
            pads=pads_by_index(self._pads, pad_row),
            evidence={
                "top_share": share,
                "baseline_share": baseline,
                "top_peak_kpa": top_peak,
                "swing_kpa": swing_top,
            },
        )
