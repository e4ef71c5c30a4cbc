"""forefoot_overload: forefoot peaks too high for too long.

Measure: per window, the highest forefoot pad's mean per-step peak (`step_peak_kpa`). Running
peaks under the forefoot are 313 +/- 69 kPa per step (J Foot Ankle Res, doi
10.1186/s13047-016-0176-z): the raise level is the top of that range (mean + 2 SD = 450 kPa),
compared with per-step peaks, not with the window maximum (the top of ~3 steps, biased
upward); 600 kPa, the low end of what discrete transducers read under the 2nd metatarsal head
at 3-4.5 m/s, escalates.

A rise over the runner's own baseline counts too, but effort is not a shoe problem: peaks rise
with speed as the contact shortens, following the runner's load-effort relation, peaks ~
duty ** -`forefoot_effort_exponent` (fitted on real treadmill running, see `RiskConfig`). So
the baseline is of the sum of the pad peaks x duty ** exponent, the same at any effort, and a
window's expected sum is that over its own duty ** exponent. The rise must also have held for
`forefoot_rise_sustain_s` (minutes, not one hard repetition). Absolute levels need neither:
they catch the runner who starts overloaded. The rise is of the whole forefoot (the sum of the pad
peaks): load moved between pads, or concentrated on one, is `metatarsal_hotspot`'s cause, so
while either of its signatures holds (and until it has failed for `recover_s`, as the
hotspot's alert eases) this rule stays quiet (one alert per cause, the advice that fits); a
runner whose usual share is high but under the hotspot's raise level stays this rule's.
Dose: the pressure-time integral of the peak pad while the condition lasts.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.alerting import Assessment, pads_by_index
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.metatarsal_hotspot import ForefootShares, swing_signature
from numbguard.analysis.risk.rule import PadGroupRule
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled, pick, stacked, top_of
from numbguard.pads import FOREFOOT_PADS


class ForefootOverload(PadGroupRule):
    kind = "forefoot_overload"
    pad_group = FOREFOOT_PADS

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        super().__init__(config, pads)
        self._shares = ForefootShares(config, pads)
        self._risen_s = 0.0  # how long the rise has held (gaps under recover_s bridged)
        self._deferring = False  # load concentrated: the hotspot's cause
        self._apart_s = 0.0  # time the hotspot's condition has not held while deferring
        self._gap_s = 0.0

    def dose_alert_kpa_s_of(self, config: RiskConfig) -> float | None:
        return config.forefoot_dose_alert_kpa_min * 60.0

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        c = self._config
        peaks = stacked(batch, self._pads, "step_peak_kpa")
        peak_kpa, row = top_of(peaks)
        mean_kpa = pick(stacked(batch, self._pads, "mean_kpa"), row)
        assessable = np.isfinite(peak_kpa) & active
        peak = filled(peak_kpa, 0.0)
        # The rise is of the whole forefoot (sum of pad peaks, all pads present): load moved
        # from pad to pad is `metatarsal_hotspot`'s pattern, not more load.
        complete = np.isfinite(peaks).all(axis=0)
        peak_sum_kpa = np.where(complete, peaks.sum(axis=0), np.nan)
        duty = batch.gait.duty if batch.gait is not None else np.full(len(batch), np.nan)
        # The runner's own load-effort relation: a shorter contact (faster) raises the peaks as
        # duty ** -k, so peak sum x duty ** k is the same at any effort. Its baseline is one
        # number, so a (downward) refresh keeps load and effort together.
        with np.errstate(invalid="ignore", divide="ignore"):
            effort = np.where(duty > 0, duty, np.nan) ** c.forefoot_effort_exponent
        normalised = peak_sum_kpa * effort
        eligible = assessable & complete & np.isfinite(normalised)
        baseline = self._baseline.resolve(normalised, eligible, batch.bouts)
        expected_kpa = baseline / effort
        ratio = filled(peak_sum_kpa / expected_kpa, 0.0)
        risen = peak >= c.forefoot_rise_min_kpa
        sustained = self._sustained(assessable, risen & (ratio >= c.forefoot_rise_ratio_off))
        shares = self._shares.judge(batch, active)
        swing = swing_signature(batch, self._pads, c)
        concentrated = self._concentrated(
            shares.on | (swing.on & active), shares.hold | (swing.hold & active)
        )
        on = ~concentrated & (
            (peak >= c.forefoot_peak_on_kpa) | (sustained & (ratio >= c.forefoot_rise_ratio))
        )
        hold = ~concentrated & (
            (peak >= c.forefoot_peak_off_kpa) | (risen & (ratio >= c.forefoot_rise_ratio_off))
        )
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
                "expected_peak_sum_kpa": expected_kpa,
                "duty_factor": duty,
            },
        )

    def _concentrated(self, hotspot_on: BoolArray, hotspot_hold: BoolArray) -> BoolArray:
        """Windows whose load is the hotspot's cause: from a window where either hotspot
        signature (share or swing) raises until the hotspot's hold has failed for `recover_s`,
        the time its own alert takes to ease. A share flickering about its hold level, or a
        pad still pressed through swing, is one cause: the hotspot's alert, not a second one.
        A runner whose usual share sits between the two levels is still this rule's."""
        c = self._config
        out = np.zeros(len(hotspot_on), dtype=bool)
        if not self._deferring and not hotspot_on.any():
            return out
        for i in range(len(out)):
            if hotspot_on[i] or (self._deferring and hotspot_hold[i]):
                self._deferring, self._apart_s = True, 0.0
            elif self._deferring:
                self._apart_s += c.window_s
                self._deferring = self._apart_s < c.recover_s
            out[i] = self._deferring
        return out

    def _sustained(self, assessable: BoolArray, rising: BoolArray) -> BoolArray:
        """Per window: has the rise held for `forefoot_rise_sustain_s`? Gaps shorter than
        `recover_s` are bridged; unassessed windows (standing, a fault) pause the count."""
        c = self._config
        out = np.zeros(len(rising), dtype=bool)
        if not rising.any() and self._risen_s == 0.0:
            return out
        for i in range(len(rising)):
            if not assessable[i]:
                continue
            if rising[i]:
                self._risen_s += c.window_s
                self._gap_s = 0.0
            elif self._risen_s > 0:
                self._gap_s += c.window_s
                if self._gap_s >= c.recover_s:
                    self._risen_s = self._gap_s = 0.0
            out[i] = self._risen_s >= c.forefoot_rise_sustain_s
        return out
