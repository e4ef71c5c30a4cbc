"""From per-window rule conditions to alert events: persistence, hysteresis, recovery, rate limit.

One `AlertTracker` per foot and kind. A rule says, per window, whether its raise condition
(`on`) and its weaker hold condition (`hold`) are met; the tracker raises once `on` has held for
`persist_s` (a stray window takes time back rather than starting over), keeps the alert while
`hold` holds, clears it after `recover_s` without `hold`, escalates `warning` to `alert` on a
severe level or dose, and never raises the same kind on the same foot twice within `repeat_s`.
Windows a rule cannot assess (lost packets, a faulty pad, standing for a gait rule) pause it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from numbguard.analysis.risk.windows import BoolArray
from numbguard.analysis.suggestions import clear_message, raise_message, suggestions_for
from numbguard.pads import Foot
from numbguard.types import Alert, FloatArray, Severity

CLEARED = "cleared"

IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Assessment:
    """One rule's verdict on `m` windows of one foot."""

    t_end_s: FloatArray
    assessable: BoolArray
    on: BoolArray
    hold: BoolArray
    severe: BoolArray
    dose_kpa_s: FloatArray  # pressure-time integral each window adds while the condition lasts
    pads: Callable[[int], tuple[str, ...]]  # the pads behind window i
    evidence: dict[str, FloatArray]  # numbers behind window i, one array per name
    notes: Callable[[int], dict[str, str]] | None = None  # words behind window i
    # Advice fitting the cause seen in window i; None: the kind's ranked suggestions.
    suggestions: Callable[[int], tuple[str, ...]] | None = None


def constant_pads(pads: tuple[str, ...]) -> Callable[[int], tuple[str, ...]]:
    return lambda _index: pads


def pads_by_index(names: tuple[str, ...], index: IndexArray) -> Callable[[int], tuple[str, ...]]:
    """Window i is about the one pad `names[index[i]]`."""
    return lambda i: (names[int(index[i])],)


class AlertTracker:
    """The alert state of one kind on one foot."""

    def __init__(
        self,
        foot: Foot,
        kind: str,
        *,
        window_s: float,
        persist_s: float,
        recover_s: float,
        repeat_s: float,
        dose_alert_kpa_s: float | None,
    ) -> None:
        self.foot: Foot = foot
        self.kind = kind
        self._window_s = window_s
        self._persist_s = persist_s
        self._recover_s = recover_s
        self._repeat_s = repeat_s
        self._dose_alert_kpa_s = dose_alert_kpa_s
        self.active = False
        self._severity: Severity = "warning"
        self._silent = False  # active but suppressed by the rate limit
        self._score_s = 0.0
        self._severe_s = 0.0
        self._off_s = 0.0
        self._dose_kpa_s = 0.0
        self._condition_s = 0.0
        self._last_raise_s: float | None = None
        self._pads: tuple[str, ...] = ()

    def update(self, assessment: Assessment) -> list[Alert]:
        events: list[Alert] = []
        a = assessment
        window_s = self._window_s
        # An idle tracker only wakes on a raise condition: skip the per-window loop otherwise.
        if not self.active and self._score_s == 0 and not (a.assessable & a.on).any():
            return events
        for i in range(len(a.t_end_s)):
            if not a.assessable[i]:
                continue
            if not self.active:
                if a.on[i]:
                    self._score_s += window_s
                    self._condition_s += window_s
                    self._dose_kpa_s += float(a.dose_kpa_s[i])
                    self._severe_s = self._severe_s + window_s if a.severe[i] else 0.0
                elif self._score_s > 0:
                    self._score_s = max(0.0, self._score_s - window_s)
                    self._condition_s += window_s
                    if self._score_s == 0:
                        self._reset()
                if self._score_s >= self._persist_s:
                    events += self._raise(a, i)
                continue
            if a.hold[i]:
                self._off_s = 0.0
                self._condition_s += window_s
                self._dose_kpa_s += float(a.dose_kpa_s[i])
                self._severe_s = self._severe_s + window_s if a.severe[i] else 0.0
                if self._severity == "warning" and self._escalates():
                    self._severity = "alert"
                    if not self._silent:
                        events.append(self._event(a, i, "alert", cleared=False))
            else:
                self._off_s += window_s
                if self._off_s >= self._recover_s:
                    if not self._silent:
                        events.append(self._event(a, i, "info", cleared=True))
                    self.active = False
                    self._reset()
        return events

    def _escalates(self) -> bool:
        dose_limit = self._dose_alert_kpa_s
        return self._severe_s >= self._persist_s or (
            dose_limit is not None and self._dose_kpa_s >= dose_limit
        )

    def _reset(self) -> None:
        self._score_s = 0.0
        self._severe_s = 0.0
        self._off_s = 0.0
        self._dose_kpa_s = 0.0
        self._condition_s = 0.0

    def _raise(self, a: Assessment, i: int) -> list[Alert]:
        t_s = float(a.t_end_s[i])
        self.active = True
        self._off_s = 0.0
        self._severity = "alert" if self._escalates() else "warning"
        self._pads = a.pads(i)
        self._silent = self._last_raise_s is not None and t_s - self._last_raise_s < self._repeat_s
        if self._silent:
            return []
        self._last_raise_s = t_s
        return [self._event(a, i, self._severity, cleared=False)]

    def _event(self, a: Assessment, i: int, severity: Severity, *, cleared: bool) -> Alert:
        evidence: dict[str, float | str] = {
            name: round(float(values[i]), 2)
            for name, values in a.evidence.items()
            if np.isfinite(values[i])
        }
        if a.notes is not None:
            evidence.update(a.notes(i))
        evidence["condition_s"] = round(self._condition_s, 1)
        if self._dose_kpa_s > 0:
            evidence["dose_kpa_min"] = round(self._dose_kpa_s / 60.0, 2)
        pads = self._pads if cleared else a.pads(i)
        if cleared:
            evidence["state"] = CLEARED
            message = clear_message(self.kind, self.foot, pads)
            suggestions: tuple[str, ...] = ()
        else:
            self._pads = pads
            message = raise_message(self.kind, self.foot, severity, pads)
            suggestions = (
                a.suggestions(i) if a.suggestions is not None else suggestions_for(self.kind, pads)
            )
        return Alert(
            t_s=round(float(a.t_end_s[i]), 3),
            foot=self.foot,
            kind=self.kind,
            severity=severity,
            pads=pads,
            message=message,
            suggestions=suggestions,
            evidence=evidence,
        )


def is_clearing(alert: Alert) -> bool:
    """True for the event that ends an alert (the condition went away)."""
    return alert.evidence.get("state") == CLEARED
