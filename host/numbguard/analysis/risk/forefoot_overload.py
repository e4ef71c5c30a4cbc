"""forefoot_overload: forefoot peaks too high for too long.

Measure: per window, the highest forefoot pad peak. Running peaks under the forefoot are
313 +/- 69 kPa (J Foot Ankle Res, doi 10.1186/s13047-016-0176-z): the raise level is the top of
that range (mean + 2 SD = 450 kPa); 600 kPa, the low end of what discrete transducers read
under the 2nd metatarsal head at 3-4.5 m/s, escalates. Forefoot pressure rises after long
runs, so a rise of the whole forefoot (the sum of the pad peaks) over the runner's own
first-minute sum counts too (configurable judgement); a shift of load between pads is the
hotspot rule's pattern.
Dose: the pressure-time integral of the peak pad while the condition lasts.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, pick, stacked, top_of
from numbguard.pads import FOREFOOT_PADS


class ForefootOverload(PadGroupRule):
    kind = "forefoot_overload"
    pad_group = FOREFOOT_PADS

    def dose_alert_kpa_s_of(self, config: RiskConfig) -> float | None:
        return config.forefoot_dose_alert_kpa_min * 60.0

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        peaks = stacked(batch, self._pads, "max_kpa")
        peak_kpa, row = top_of(peaks)
        mean_kpa = pick(stacked(batch, self._pads, "mean_kpa"), row)
        assessable = np.isfinite(peak_kpa) & active
        peak = filled(peak_kpa, 0.0)
        # The rise is of the whole forefoot (sum of pad peaks, all pads present): load moved
        # from pad to pad is `metatarsal_hotspot`'s pattern, not more load.
        complete = np.isfinite(peaks).all(axis=0)
        peak_sum_kpa = np.where(complete, peaks.sum(axis=0), np.nan)
        baseline = self._baseline.resolve(peak_sum_kpa, assessable & complete)
        ratio = filled(peak_sum_kpa / baseline, 0.0)
        risen = peak >= c.forefoot_rise_min_kpa
        on = (peak >= c.forefoot_peak_on_kpa) | (risen & (ratio >= c.forefoot_rise_ratio))
        hold = (peak >= c.forefoot_peak_off_kpa) | (risen & (ratio >= c.forefoot_rise_ratio_off))
        return Assessment(
            t_end_s=batch.t_end_s,
            assessable=assessable,
            on=on,
            hold=hold,
            severe=peak >= c.forefoot_severe_kpa,
            dose_kpa_s=filled(mean_kpa, 0.0) * c.window_s,
            pads=pads_by_index(self._pads, row),
            evidence={
                "peak_kpa": peak_kpa,
                "forefoot_peak_sum_kpa": peak_sum_kpa,
                "baseline_peak_sum_kpa": baseline,
            },
        )
