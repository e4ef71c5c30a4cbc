"""sensor_fault: a pad stuck, open, shorted or implausible; its data then drives no other rule.

Per pad and window, a fault signature is one of:

- `stuck`: the reading does not move (range < 0.05 kPa) away from zero. A live FSR under a
  foot always shows noise and load changes; an unloaded FSR reads zero, so flat zero is not
  a fault by itself;
- `open`: a forefoot pad never rises above 0.5 kPa while another forefoot pad loads and
  unloads (the heel is exempt: forefoot strikers barely load it, and a lace pad at zero is
  loose lacing, so neither can be told from an open pad);
- `shorted`: pinned at full scale (`fault_saturation_kpa`, configurable per insole; the
  hardware must read to at least 700 kPa per the brief);
- `implausible`: readings below -20 kPa or above 1500 kPa (twice the 730 kPa top of running
  peaks in the brief).

Thresholds are configurable judgements. A pad with a signature is excluded from every rule
for that window and `fault_hold_s` after the last one, so a fault can never raise another alert
even before its own alert is due.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from numbguard.analysis.risk.alerting import Assessment
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, PadWindows, WindowBatch, stacked
from numbguard.analysis.types import FloatArray
from numbguard.pads import FOREFOOT_PADS

FAULT_NAMES = ("stuck", "open", "shorted", "implausible")


class SensorFault:
    kind = "sensor_fault"

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        self._config = config
        self._pads = pads
        self._forefoot = tuple(pad for pad in FOREFOOT_PADS if pad in pads)
        self._last_fault_end_s = dict.fromkeys(pads, -np.inf)
        self.dose_alert_kpa_s: float | None = None

    def _signatures(self, batch: WindowBatch, pad: str) -> dict[str, BoolArray]:
        c = self._config
        w = batch.pads[pad]
        present = w.valid_fraction >= c.min_valid_fraction
        flat = np.nan_to_num(w.range_kpa, nan=np.inf) <= c.fault_flat_range_kpa
        # In order of precedence: the first signature that fits names the fault.
        signatures = {
            "shorted": w.saturated_fraction >= c.fault_saturated_fraction,
            "implausible": (w.below_min_count > 0) | (w.above_max_count > 0),
            "stuck": present & flat & (np.nan_to_num(w.mean_kpa, nan=0.0) > c.fault_flat_min_kpa),
        }
        if pad in self._forefoot:
            others = tuple(p for p in self._forefoot if p != pad)
            ranges = stacked(batch, others, "max_kpa") - stacked(batch, others, "min_kpa")
            cycling = (np.nan_to_num(ranges, nan=0.0) >= c.active_forefoot_range_kpa).any(axis=0)
            quiet = np.nan_to_num(w.max_kpa, nan=np.inf) <= c.fault_open_max_kpa
            signatures["open"] = present & quiet & cycling
        return signatures

    def screen(self, batch: WindowBatch) -> tuple[WindowBatch, Assessment]:
        """The batch with faulty and under-sampled pads blanked out, and the fault verdict."""
        c = self._config
        m = len(batch)
        masked: dict[str, PadWindows] = {}
        any_fault = np.zeros(m, dtype=bool)
        notes: list[dict[str, str]] = [{} for _ in range(m)]
        for pad in self._pads:
            signatures = self._signatures(batch, pad)
            fault = np.zeros(m, dtype=bool)
            for name, hit in signatures.items():
                fault |= hit
                for i in np.flatnonzero(hit):
                    notes[i].setdefault(pad, name)
            # End of the latest faulty window up to each window (carried across batches).
            last_end = _running_last(fault, batch.t_end_s, self._last_fault_end_s[pad])
            self._last_fault_end_s[pad] = float(last_end[-1]) if m else self._last_fault_end_s[pad]
            excluded = fault | (batch.t_end_s - last_end <= c.fault_hold_s)
            unusable = excluded | (batch.pads[pad].valid_fraction < c.min_valid_fraction)
            masked[pad] = _blank(batch.pads[pad], unusable)
            any_fault |= fault
        faulty_pads = tuple(self._pads)
        verdict = Assessment(
            t_end_s=batch.t_end_s,
            assessable=np.ones(m, dtype=bool),
            on=any_fault,
            hold=any_fault,
            severe=np.zeros(m, dtype=bool),
            dose_kpa_s=np.zeros(m),
            pads=lambda i: tuple(pad for pad in faulty_pads if pad in notes[i]),
            evidence={},
            notes=lambda i: {f"{pad}_fault": name for pad, name in notes[i].items()},
        )
        return replace(batch, pads=masked), verdict


def _running_last(flags: BoolArray, t_end_s: FloatArray, previous_s: float) -> FloatArray:
    """Per window: the end time of the latest flagged window so far (or `previous_s`)."""
    marks = np.where(flags, t_end_s, -np.inf)
    return np.maximum.accumulate(np.concatenate(([previous_s], marks)))[1:]


def _blank(windows: PadWindows, unusable: BoolArray) -> PadWindows:
    if not unusable.any():
        return windows
    nan = np.nan

    def blank(values: FloatArray) -> FloatArray:
        return np.where(unusable, nan, values)

    return PadWindows(
        valid_fraction=np.where(unusable, 0.0, windows.valid_fraction),
        mean_kpa=blank(windows.mean_kpa),
        min_kpa=blank(windows.min_kpa),
        max_kpa=blank(windows.max_kpa),
        p10_kpa=blank(windows.p10_kpa),
        saturated_fraction=windows.saturated_fraction,
        below_min_count=windows.below_min_count,
        above_max_count=windows.above_max_count,
    )
