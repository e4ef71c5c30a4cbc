"""unrelieved_pressure: the forefoot is loaded in cycles but never unloads (elliptical, stair
machine, long treadmill sessions), so the nerves get no recovery between steps.

Measure: per window, the highest minimum among the forefoot pads, in windows of cyclic
loading (some forefoot pad swings by `active_forefoot_range_kpa`); standing still is not
cyclic and does not count. Raise level 27 kPa (200 mmHg) and alert level 53 kPa (400 mmHg):
the range that reduced nerve conduction in the animal data of the brief (Lundborg 1983,
Dahlin 1986), which fits this pattern better than running. Dose: the floor pressure x time.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, stacked, top_of
from numbguard.pads import FOREFOOT_PADS


class UnrelievedPressure(PadGroupRule):
    kind = "unrelieved_pressure"
    pad_group = FOREFOOT_PADS

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        floor_kpa, row = top_of(stacked(batch, self._pads, "min_kpa"))
        floor = filled(floor_kpa, 0.0)
        return Assessment(
            t_end_s=batch.t_end_s,
            assessable=np.isfinite(floor_kpa),
            on=active & (floor >= c.unrelieved_floor_on_kpa),
            hold=active & (floor >= c.unrelieved_floor_off_kpa),
            severe=active & (floor >= c.unrelieved_severe_kpa),
            dose_kpa_s=floor * c.window_s,
            pads=pads_by_index(self._pads, row),
            evidence={"floor_kpa": floor_kpa},
        )
