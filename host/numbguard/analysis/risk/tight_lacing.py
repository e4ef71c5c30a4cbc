"""tight_lacing: dorsal (lace) pressure that stays up through swing and stance.

Measure: per window, the 10th percentile of each lace pad (the level the pad never leaves,
i.e. its swing / static pressure); the higher lace pad counts. Sustained low pressure harms
nerves (Lundborg 1983: 10.7 kPa for 4 h; 27-53 kPa reduced conduction); no published comfort
threshold in kPa exists for the dorsum (Hagen 2010), so the raise level is a configurable
judgement, combined with time (`persist_s`) and dose (static pressure x time). A rise over the
runner's own static lace pressure (its baseline, per activity bout) counts too.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, pick, stacked, top_of
from numbguard.pads import LACE_PADS


class TightLacing(PadGroupRule):
    kind = "tight_lacing"
    pad_group = LACE_PADS

    def dose_alert_kpa_s_of(self, config: RiskConfig) -> float | None:
        return config.lace_dose_alert_kpa_min * 60.0

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        static_kpa, row = top_of(stacked(batch, self._pads, "p10_kpa"))
        stance_kpa = pick(stacked(batch, self._pads, "mean_kpa"), row)
        assessable = np.isfinite(static_kpa)
        level = filled(static_kpa, 0.0)
        baseline = self._baseline.resolve(static_kpa, active & assessable, batch.bouts)
        rise = filled(level - baseline, 0.0)
        hold = level >= c.lace_static_off_kpa
        on = (level >= c.lace_static_on_kpa) | (hold & (rise >= c.lace_rise_over_baseline_kpa))
        return Assessment(
            t_end_s=batch.t_end_s,
            assessable=assessable,
            on=on,
            hold=hold,
            severe=level >= c.lace_severe_kpa,
            dose_kpa_s=level * c.window_s,
            pads=pads_by_index(self._pads, row),
            evidence={
                "lace_static_kpa": static_kpa,
                "lace_mean_kpa": stance_kpa,
                "baseline_static_kpa": baseline,
            },
        )
