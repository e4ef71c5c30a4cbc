"""The shape every risk rule has: it reads window statistics and returns an `Assessment`."""

from __future__ import annotations

from typing import Protocol

from numbguard.analysis.risk.alerting import Assessment
from numbguard.analysis.risk.baseline import new_baseline
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, WindowBatch


class Rule(Protocol):
    kind: str
    dose_alert_kpa_s: float | None  # dose that escalates to `alert`; None: level only

    def assess(self, batch: WindowBatch, active: BoolArray) -> Assessment:
        """Judge `batch`; `active` marks windows of cyclic loading (walking, running, ...)."""
        ...


class PadGroupRule:
    """Common set-up of a rule that reads one group of pads (the lace or forefoot pads)."""

    kind = ""
    pad_group: tuple[str, ...] = ()

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        self._config = config
        self._pads = tuple(pad for pad in self.pad_group if pad in pads)
        self._baseline = new_baseline(config)
        self.dose_alert_kpa_s: float | None = self.dose_alert_kpa_s_of(config)

    def dose_alert_kpa_s_of(self, config: RiskConfig) -> float | None:
        """The dose that escalates to `alert`, or None if only the level escalates."""
        return None
