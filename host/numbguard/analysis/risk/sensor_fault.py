"""sensor_fault: a pad stuck, open, shorted or implausible; its data then drives no other rule.

Per pad and window, a fault signature is one of:

- `stuck`: the reading does not move (range < 0.05 kPa) away from zero while the foot moves
  (a plantar pad cycles). A live FSR under a moving foot always shows noise and load changes;
  standing still, a quiet ADC may read flat; an unloaded FSR reads zero, so flat zero is not
  a fault by itself;
- `open`: a forefoot pad never rises above 0.5 kPa while another forefoot pad loads and
  unloads (the heel is exempt: forefoot strikers barely load it, and a lace pad at zero is
  loose lacing, so neither can be told from an open pad);
- `shorted`: pinned at full scale (`fault_saturation_kpa`, configurable per insole; the
  hardware must read to at least 700 kPa per the brief);
- `implausible`: readings below -20 kPa or above 1500 kPa (twice the 730 kPa top of running
  peaks in the brief).

Plausibility signatures (`swing_load`, `fast_rise`, `dropout`, `flat_zero`, see
risk/plausibility.py) come after these four and are screened the same way.

Thresholds are configurable judgements. A pad with a signature is excluded from every rule
for that window and `fault_hold_s` after the last one, so a fault can never raise another alert
even before its own alert is due. Excluded means from every figure a rule reads: the pad's
window statistics, its raw samples (the forefoot cycle clock, risk/cycles.py) and the summed
plantar load whose relief and contact duty decide stepping, the activity bouts and the effort
of `forefoot_overload`. A leak reading 690 kPa through swing would otherwise make a run look
like a machine that never relieves the foot, and a stuck pad would shorten the contact duty.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from numbguard.analysis.risk.alerting import Assessment
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import (
    BoolArray,
    PadWindows,
    WindowBatch,
    filled,
    gait_statistics,
)
from numbguard.analysis.suggestions import fault_advice
from numbguard.pads import FOREFOOT_PADS, PLANTAR_PADS
from numbguard.types import FloatArray


class SensorFault:
    kind = "sensor_fault"

    def __init__(
        self,
        config: RiskConfig,
        pads: tuple[str, ...],
        kinds_by_pad: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._config = config
        self._pads = pads
        # The rules that read each pad: a faulty pad is not assessed by them.
        self._kinds_by_pad = kinds_by_pad or {}
        self._forefoot = tuple(pad for pad in FOREFOOT_PADS if pad in pads)
        self._last_fault_end_s = np.full(len(pads), -np.inf)
        self.dose_alert_kpa_s: float | None = None

    def _signatures(self, batch: WindowBatch) -> dict[str, BoolArray]:
        """Per fault name, a (pads, windows) mask of the windows that show it."""
        c = self._config
        w = batch.table
        present = w.valid_fraction >= c.min_valid_fraction
        flat = filled(w.range_kpa, np.inf) <= c.fault_flat_range_kpa
        plantar = [i for i, pad in enumerate(batch.pad_ids) if pad in PLANTAR_PADS]
        # Only a moving foot proves a pad stuck: standing still, a quiet ADC can read flat.
        moving = (filled(w.range_kpa[plantar], 0.0) >= c.active_forefoot_range_kpa).any(axis=0)
        open_pad = np.zeros(present.shape, dtype=bool)
        rows = [batch.pad_ids.index(pad) for pad in self._forefoot]
        if len(rows) > 1:
            ranges = filled(w.range_kpa[rows], 0.0)
            cycling = ranges >= c.active_forefoot_range_kpa
            others_cycling = cycling.sum(axis=0) - cycling > 0
            quiet = filled(w.max_kpa[rows], np.inf) <= c.fault_open_max_kpa
            open_pad[rows] = present[rows] & quiet & others_cycling
        # In order of precedence: the first signature that fits names the fault.
        return {
            "shorted": w.saturated_fraction >= c.fault_saturated_fraction,
            "implausible": (w.below_min_count > 0) | (w.above_max_count > 0),
            "stuck": present & flat & (filled(w.mean_kpa, 0.0) > c.fault_flat_min_kpa) & moving,
            "open": open_pad,
        }

    def screen(
        self,
        batch: WindowBatch,
        extra: dict[str, BoolArray] | None = None,
        extra_evidence: dict[str, FloatArray] | None = None,
    ) -> tuple[WindowBatch, Assessment, BoolArray]:
        """The batch with faulty and under-sampled pads blanked out, the fault verdict, and the
        (pads, windows) mask of the pads excluded for suspicion (a signature or its hold).

        `extra`: more signatures (pads, windows) after the four own ones, in precedence order.
        """
        c = self._config
        signatures = self._signatures(batch) | (extra or {})
        fault = np.logical_or.reduce(list(signatures.values()))
        # End of the latest faulty window up to each window, per pad (carried across batches).
        marks = np.where(fault, batch.t_end_s[None, :], -np.inf)
        last_end = np.maximum.accumulate(
            np.concatenate([self._last_fault_end_s[:, None], marks], axis=1), axis=1
        )[:, 1:]
        if len(batch):
            self._last_fault_end_s = last_end[:, -1].copy()
        excluded = fault | (batch.t_end_s[None, :] - last_end <= c.fault_hold_s)
        unusable = excluded | (batch.table.valid_fraction < c.min_valid_fraction)
        pads = batch.pad_ids

        def faults_at(i: int) -> dict[str, str]:
            found: dict[str, str] = {}
            for name, hit in signatures.items():
                for row in np.flatnonzero(hit[:, i]):
                    found.setdefault(pads[row], name)
            return found

        verdict = Assessment(
            t_end_s=batch.t_end_s,
            assessable=np.ones(len(batch), dtype=bool),
            on=fault.any(axis=0),
            hold=fault.any(axis=0),
            severe=np.zeros(len(batch), dtype=bool),
            dose_kpa_s=np.zeros(len(batch)),
            pads=lambda i: tuple(pad for row, pad in enumerate(pads) if fault[row, i]),
            evidence=dict(extra_evidence or {}),
            notes=lambda i: self._notes(faults_at(i)),
            suggestions=lambda i: fault_advice(next(iter(faults_at(i).values()), "")),
        )
        screened = replace(batch, table=_blank(batch.table, unusable))
        return _without_suspected(screened, excluded, c), verdict, excluded

    def _notes(self, faults: dict[str, str]) -> dict[str, str]:
        notes = {f"{pad}_fault": name for pad, name in faults.items()}
        for pad in faults:
            if self._kinds_by_pad.get(pad):
                notes[f"{pad}_cannot_assess"] = ", ".join(self._kinds_by_pad[pad])
        return notes


def _without_suspected(batch: WindowBatch, excluded: BoolArray, c: RiskConfig) -> WindowBatch:
    """The batch with the suspected pads' samples blanked and, if a plantar pad is among them,
    the gait figures taken again from the plantar pads that pass. Nothing is recomputed when no
    pad is suspected: the windower's figures are then those of the pads that pass."""
    if batch.samples_kpa is None or not excluded.any():
        return batch
    samples = np.where(excluded[:, :, None], np.nan, batch.samples_kpa)
    plantar = [i for i, pad in enumerate(batch.pad_ids) if pad in PLANTAR_PADS]
    if not excluded[plantar].any():
        return replace(batch, samples_kpa=samples)
    limits = (c.fault_saturation_kpa, c.fault_min_kpa, c.fault_max_kpa)
    return replace(batch, samples_kpa=samples, gait=gait_statistics(samples, plantar, *limits))


def _blank(table: PadWindows, unusable: BoolArray) -> PadWindows:
    if not unusable.any():
        return table
    return PadWindows(
        valid_fraction=np.where(unusable, 0.0, table.valid_fraction),
        mean_kpa=np.where(unusable, np.nan, table.mean_kpa),
        min_kpa=np.where(unusable, np.nan, table.min_kpa),
        max_kpa=np.where(unusable, np.nan, table.max_kpa),
        p10_kpa=np.where(unusable, np.nan, table.p10_kpa),
        half_range_kpa=np.where(unusable, np.nan, table.half_range_kpa),
        step_peak_kpa=np.where(unusable, np.nan, table.step_peak_kpa),
        saturated_fraction=table.saturated_fraction,
        below_min_count=table.below_min_count,
        above_max_count=table.above_max_count,
    )
