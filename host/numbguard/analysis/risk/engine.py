"""The risk stage of one foot: windows -> sensor screening -> rules -> alert trackers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from numbguard.analysis.risk.alerting import AlertTracker
from numbguard.analysis.risk.bouts import BoutTracker
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.cycles import CycleClock
from numbguard.analysis.risk.drift import DriftTracker
from numbguard.analysis.risk.forefoot_overload import ForefootOverload
from numbguard.analysis.risk.metatarsal_hotspot import MetatarsalHotspot
from numbguard.analysis.risk.plausibility import Plausibility
from numbguard.analysis.risk.rule import Rule
from numbguard.analysis.risk.sensor_fault import SensorFault
from numbguard.analysis.risk.tight_lacing import TightLacing
from numbguard.analysis.risk.unrelieved_pressure import UnrelievedPressure
from numbguard.analysis.risk.windows import (
    BoolArray,
    FootWindower,
    WindowBatch,
    cyclic_loading,
    machine_paced,
    stepping,
)
from numbguard.pads import FOREFOOT_PADS, LACE_PADS, PLANTAR_PADS, Foot
from numbguard.types import Alert, PressureChunk

WindowListener = Callable[[Foot, WindowBatch, BoolArray], list[Alert]]

# What each rule needs, to say what an insole without those pads cannot assess.
REQUIRED_PADS: dict[str, tuple[tuple[str, ...], int]] = {
    "tight_lacing": (LACE_PADS, 1),
    "forefoot_overload": (FOREFOOT_PADS, 1),
    "metatarsal_hotspot": (FOREFOOT_PADS, 2),
    "unrelieved_pressure": (FOREFOOT_PADS, 1),
}
RULES: tuple[type[TightLacing | ForefootOverload | MetatarsalHotspot | UnrelievedPressure], ...] = (
    TightLacing,
    ForefootOverload,
    MetatarsalHotspot,
    UnrelievedPressure,
)


def kinds_by_pad(pads: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Per pad, the rules that read it (asymmetry reads the forefoot of both feet)."""
    kinds: dict[str, list[str]] = {pad: [] for pad in pads}
    for kind, (needed, _count) in REQUIRED_PADS.items():
        for pad in needed:
            if pad in kinds:
                kinds[pad].append(kind)
    for pad in FOREFOOT_PADS:
        if pad in kinds:
            kinds[pad].append("asymmetry")
    return {pad: tuple(sorted(names)) for pad, names in kinds.items() if names}


def assessable_kinds(pads: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(kinds these pads can assess, kinds they cannot)."""
    can: list[str] = []
    cannot: list[str] = []
    for kind, (needed, count) in REQUIRED_PADS.items():
        (can if sum(pad in pads for pad in needed) >= count else cannot).append(kind)
    return can, cannot


class FootRiskEngine:
    """Consumes one foot's chunks in time order; returns alert events as they become final."""

    def __init__(self, foot: Foot, config: RiskConfig | None = None) -> None:
        self.foot: Foot = foot
        self.config = config or RiskConfig()
        c = self.config
        self._windower = FootWindower(
            foot,
            c.window_s,
            saturation_kpa=c.fault_saturation_kpa,
            min_kpa=c.fault_min_kpa,
            max_kpa=c.fault_max_kpa,
        )
        self._fault: SensorFault | None = None
        self._plausibility: Plausibility | None = None
        self._drift: DriftTracker | None = None
        self._bouts = BoutTracker(c)
        self._cycles = CycleClock(FOREFOOT_PADS)
        self._fault_tracker: AlertTracker | None = None
        self._rules: list[tuple[Rule, AlertTracker]] = []
        self.cannot_assess: list[str] = []
        # Per rule, the pads it could not judge for a while because they were under suspicion.
        self.not_assessed: dict[str, tuple[str, ...]] = {}
        self._kinds_by_pad: dict[str, tuple[str, ...]] = {}
        self._plantar_rows: list[int] = []
        self._plantar_bits = np.zeros((0, 1), dtype=np.int64)
        self.active_s = 0.0
        self.assessed_s = 0.0
        # Rules across both feet (asymmetry) see each screened batch through this.
        self.window_listener: WindowListener | None = None

    @property
    def pads(self) -> tuple[str, ...]:
        return self._windower.pads or ()

    def _tracker(self, kind: str, persist_s: float, dose_alert_kpa_s: float | None) -> AlertTracker:
        c = self.config
        return AlertTracker(
            self.foot,
            kind,
            window_s=c.window_s,
            persist_s=persist_s,
            recover_s=c.recover_s,
            repeat_s=c.repeat_s,
            dose_alert_kpa_s=dose_alert_kpa_s,
        )

    def _build(self, pads: tuple[str, ...]) -> None:
        c = self.config
        self._kinds_by_pad = kinds_by_pad(pads)
        self._plantar_rows = [i for i, pad in enumerate(pads) if pad in PLANTAR_PADS]
        self._plantar_bits = (1 << np.arange(len(self._plantar_rows), dtype=np.int64))[:, None]
        self._fault = SensorFault(c, pads, self._kinds_by_pad)
        self._plausibility = Plausibility(c, pads)
        self._drift = DriftTracker(c, pads)
        self._fault_tracker = self._tracker("sensor_fault", c.fault_persist_s, None)
        can, self.cannot_assess = assessable_kinds(pads)
        for rule_type in RULES:
            if rule_type.kind in can:
                rule = rule_type(c, pads)
                tracker = self._tracker(rule.kind, c.persist_s, rule.dose_alert_kpa_s)
                self._rules.append((rule, tracker))

    def feed(self, chunk: PressureChunk) -> list[Alert]:
        if chunk.foot != self.foot:
            raise ValueError(f"chunk of the {chunk.foot} foot fed to the {self.foot} foot")
        batch = self._windower.feed(chunk)
        return self._process(batch) if batch is not None else []

    def finish(self) -> list[Alert]:
        batch = self._windower.flush()
        return self._process(batch) if batch is not None else []

    def not_assessed_lines(self) -> list[str]:
        """What suspicion kept rules from judging, e.g. 'tight_lacing on lace_upper (sensor
        fault)', for the session summary's `cannot_assess` after the kinds no pad allows."""
        return [
            f"{kind} on {', '.join(pads)} (sensor fault)"
            for kind, pads in sorted(self.not_assessed.items())
        ]

    def _note_not_assessed(self, batch: WindowBatch, masked: WindowBatch) -> None:
        sampled = batch.table.valid_fraction >= self.config.min_valid_fraction
        blanked = (sampled & (masked.table.valid_fraction == 0)).any(axis=1)
        for row in np.flatnonzero(blanked):
            pad = batch.pad_ids[row]
            for kind in self._kinds_by_pad.get(pad, ()):
                known = self.not_assessed.get(kind, ())
                if pad not in known:
                    self.not_assessed[kind] = (*known, pad)

    def _process(self, batch: WindowBatch) -> list[Alert]:
        if self._fault is None:
            self._build(tuple(batch.pads))
        assert self._fault is not None and self._fault_tracker is not None
        assert self._plausibility is not None and self._drift is not None
        # Faults are judged on the raw readings; drift is corrected on what passes screening.
        suspected = self._plausibility.signatures(batch)
        # Screening comes first: every figure below (drift, stepping, machine pace, bouts, the
        # rules) reads only the pads that pass, the gait figures included.
        masked, fault_verdict, excluded = self._fault.screen(
            batch, suspected, self._plausibility.evidence
        )
        self._note_not_assessed(batch, masked)
        masked = self._drift.correct(masked)
        c = self.config
        # Cyclic loading needs steps: a forefoot that cycles under a foot that never leaves its
        # load (calf raises, weight shifts) is not an elliptical; a foot that keeps its load
        # must cycle at a machine's pace (calf raises drop the summed load as much).
        active = (
            cyclic_loading(masked, FOREFOOT_PADS, c.active_forefoot_range_kpa)
            & stepping(masked, c.cyclic_min_relief)
            & machine_paced(
                masked, self._cycles.periods_s(masked), c.machine_max_relief, c.machine_max_cycle_s
            )
        )
        left_out = (excluded[self._plantar_rows] * self._plantar_bits).sum(axis=0)
        masked = replace(masked, bouts=self._bouts.label(masked, active, left_out))
        self.active_s += float(active.sum()) * self.config.window_s
        self.assessed_s += len(batch) * self.config.window_s
        events = self._fault_tracker.update(fault_verdict)
        for rule, tracker in self._rules:
            events += tracker.update(rule.assess(masked, active))
        if self.window_listener is not None:
            events += self.window_listener(self.foot, masked, active)
        events.sort(key=lambda alert: alert.t_s)
        return events
