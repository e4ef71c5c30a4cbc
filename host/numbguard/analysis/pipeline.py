"""The session analyzer: pad pressures in; contacts, gait summary and risk alerts out.

`SessionAnalyzer` chains, per foot, the contact detector (`numbguard.analysis.gait`), the
activity classifier (`numbguard.analysis.activity`, time per activity in the summary) and the
risk engine (`numbguard.analysis.risk`, plus the asymmetry rule across both feet). The risk
rules judge cyclic loading on their own windows, after faulty pads are screened out of every
figure they read (the gait figures included): a shorted or leaking pad must not make a window
look loaded. The contacts, steps and activity time of the summary come from all pads and
drive no rule.

Feed it `PressureChunk`s of both feet (the feet may interleave in any way; each foot's chunks
come in time order); `feed` returns the alert events that became final. `finish` returns a
`SessionResult` whose `to_json()` is the exact object of `numbguard analyze --json`. Every
stage cuts its input by sample count, so the alerts do not depend on the chunk size. Memory is
bounded except for the contact list, which the JSON result needs; pass `keep_contacts=False`
for endless live sessions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numbguard.analysis.activity import ActivityClassifier, ActivityWindow
from numbguard.analysis.gait import ContactDetector
from numbguard.analysis.risk import FootRiskEngine, RiskConfig
from numbguard.analysis.risk.asymmetry import BilateralAsymmetry
from numbguard.errors import BadChunk
from numbguard.pads import FOOT_IDS, Foot
from numbguard.types import Alert, PressureChunk, StepMetrics


class StreamingMedian:
    """Median of a stream of values in fixed bins: bounded memory, exact to `resolution`."""

    _FLUSH_AT = 256  # values held before they go into the bins in one numpy call

    def __init__(self, high: float, resolution: float) -> None:
        self._resolution = resolution
        self._counts = np.zeros(math.ceil(high / resolution) + 1, dtype=np.int64)
        self._count = 0
        self._pending: list[float] = []

    def add(self, value: float) -> None:
        self.extend((value,))

    def extend(self, values: Iterable[float]) -> None:
        self._pending.extend(values)
        if len(self._pending) >= self._FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        values = np.asarray(self._pending, dtype=np.float64)
        self._pending = []
        values = values[np.isfinite(values)]
        index = np.clip(np.rint(values / self._resolution), 0, len(self._counts) - 1)
        self._counts += np.bincount(index.astype(np.int64), minlength=len(self._counts))
        self._count += len(values)

    @property
    def count(self) -> int:
        self._flush()
        return self._count

    def merged(self, other: StreamingMedian) -> StreamingMedian:
        """Both streams as one (same bins)."""
        self._flush()
        other._flush()
        both = StreamingMedian(0.0, self._resolution)
        both._counts = self._counts + other._counts
        both._count = self._count + other._count
        return both

    def median(self) -> float | None:
        if self.count == 0:
            return None
        cumulative = np.cumsum(self._counts)
        low = int(np.searchsorted(cumulative, (self.count + 1) // 2))
        high = int(np.searchsorted(cumulative, self.count // 2 + 1))
        return (low + high) / 2 * self._resolution


@dataclass
class FootSummary:
    """What the session showed about one foot."""

    foot: Foot
    pads: tuple[str, ...] = ()
    contacts: list[tuple[float, float]] = field(default_factory=list)
    steps: int = 0
    stride_s: StreamingMedian = field(default_factory=lambda: StreamingMedian(5.0, 0.001))
    contact_s: StreamingMedian = field(default_factory=lambda: StreamingMedian(5.0, 0.001))
    peak_kpa: dict[str, StreamingMedian] = field(default_factory=dict)
    forefoot_share: StreamingMedian = field(default_factory=lambda: StreamingMedian(1.0, 0.001))
    cannot_assess: list[str] = field(default_factory=list)
    active_s: float = 0.0
    activity_s: dict[str, float] = field(default_factory=dict)

    def add_activity(self, windows: list[ActivityWindow]) -> None:
        for window in windows:
            span_s = window.t_end_s - window.t_start_s
            self.activity_s[window.activity] = self.activity_s.get(window.activity, 0.0) + span_s

    def add(self, step: StepMetrics, keep_contacts: bool) -> None:
        self.add_steps([step], keep_contacts)

    def add_steps(self, steps: list[StepMetrics], keep_contacts: bool) -> None:
        """Add steps in one pass per statistic: per-step calls would cost more than the gait."""
        self.steps += len(steps)
        if keep_contacts:
            self.contacts += [(step.t_on_s, step.t_off_s) for step in steps]
        self.contact_s.extend([step.contact_s for step in steps])
        self.stride_s.extend([step.stride_s for step in steps if step.stride_s is not None])
        self.forefoot_share.extend(
            [step.forefoot_share for step in steps if step.forefoot_share is not None]
        )
        peaks_kpa: dict[str, list[float]] = {}
        for step in steps:
            for pad, peak in step.peak_kpa.items():
                peaks_kpa.setdefault(pad, []).append(peak)
        for pad, values in peaks_kpa.items():
            median = self.peak_kpa.get(pad)
            if median is None:
                median = self.peak_kpa[pad] = StreamingMedian(2000.0, 1.0)
            median.extend(values)

    def to_json(self) -> dict[str, Any]:
        return {
            "pads": list(self.pads),
            "contacts": [[round(on, 3), round(off, 3)] for on, off in self.contacts],
            "steps": self.steps,
            "stride_s_median": _round(self.stride_s.median(), 3),
            "contact_s_median": _round(self.contact_s.median(), 3),
            "peak_kpa_median": {
                pad: _round(median.median(), 0) for pad, median in sorted(self.peak_kpa.items())
            },
            "forefoot_share_median": _round(self.forefoot_share.median(), 3),
            "active_s": round(self.active_s, 1),
            "activity_s": {k: round(v, 1) for k, v in sorted(self.activity_s.items())},
            "cannot_assess": list(self.cannot_assess),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """One alert as it appears in the `alerts` list of the JSON result."""
    return {
        "t_s": alert.t_s,
        "foot": alert.foot,
        "kind": alert.kind,
        "severity": alert.severity,
        "pads": list(alert.pads),
        "message": alert.message,
        "suggestions": list(alert.suggestions),
        "evidence": dict(sorted(alert.evidence.items())),
    }


@dataclass(frozen=True)
class SessionResult:
    duration_s: float
    sample_rate_hz: float | None
    cadence_spm: float | None
    feet: dict[Foot, FootSummary]
    alerts: tuple[Alert, ...]
    # Every step, per foot in order of contact end, when the analyzer was asked to keep them
    # (`keep_steps`): a report or export then needs no second pass of the contact detector.
    steps: dict[Foot, list[StepMetrics]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "sample_rate_hz": self.sample_rate_hz,
            "cadence_spm": self.cadence_spm,
            "feet": {foot: summary.to_json() for foot, summary in self.feet.items()},
            "alerts": [alert_to_json(alert) for alert in self.alerts],
        }


class SessionAnalyzer:
    """Streaming analysis of one session (both feet)."""

    def __init__(
        self,
        config: RiskConfig | None = None,
        *,
        keep_contacts: bool = True,
        keep_steps: bool = False,
    ) -> None:
        self.config = config or RiskConfig()
        self._keep_contacts = keep_contacts
        self._steps: dict[Foot, list[StepMetrics]] | None = {} if keep_steps else None
        self._gait: dict[Foot, ContactDetector] = {}
        self._activity: dict[Foot, ActivityClassifier] = {}
        self._risk: dict[Foot, FootRiskEngine] = {}
        self._summary: dict[Foot, FootSummary] = {}
        self._alerts: list[Alert] = []
        self._first_t_s = math.inf
        self._last_t_s = -math.inf
        self._sample_rate_hz: float | None = None
        self._finished = False
        self.last_steps: list[StepMetrics] = []
        self._asymmetry = BilateralAsymmetry(self.config)

    def feed(self, chunk: PressureChunk) -> list[Alert]:
        """Consume one chunk; return the alert events that became final."""
        if self._finished:
            raise BadChunk(
                "session already finished",
                expected="no more chunks",
                got="a chunk",
                foot=chunk.foot,
                what="finished",
            )
        foot = chunk.foot
        if foot not in self._risk:
            self._start_foot(chunk)
        elif self._sample_rate_hz != chunk.sample_rate_hz:
            raise BadChunk(
                f"{foot} chunk changes the sample rate",
                expected=f"{self._sample_rate_hz} Hz",
                got=f"{chunk.sample_rate_hz} Hz",
                foot=foot,
                what="sample_rate_hz",
            )
        events = self._risk[foot].feed(chunk)
        # Kept for live displays (cadence, contact time): the steps this chunk made final.
        self.last_steps = self._gait[foot].update(chunk)
        self._summary[foot].add_steps(self.last_steps, self._keep_contacts)
        if self._steps is not None:
            self._steps.setdefault(foot, []).extend(self.last_steps)
        self._summary[foot].add_activity(self._activity[foot].update(chunk))
        if len(chunk.t_s):
            self._first_t_s = min(self._first_t_s, float(chunk.t_s[0]))
            self._last_t_s = max(self._last_t_s, float(chunk.t_s[-1]))
        self._alerts += events
        return events

    def _start_foot(self, chunk: PressureChunk) -> None:
        if self._sample_rate_hz is None:
            self._sample_rate_hz = chunk.sample_rate_hz
        elif chunk.sample_rate_hz != self._sample_rate_hz:
            raise BadChunk(
                "the feet have different sample rates",
                expected=f"{self._sample_rate_hz} Hz",
                got=f"{chunk.sample_rate_hz} Hz",
                foot=chunk.foot,
                what="sample_rate_hz",
            )
        foot = chunk.foot
        self._risk[foot] = FootRiskEngine(foot, self.config)
        self._risk[foot].window_listener = self._asymmetry
        self._gait[foot] = ContactDetector(foot)
        self._activity[foot] = ActivityClassifier(foot)
        self._summary[foot] = FootSummary(foot, pads=tuple(chunk.pressure_kpa))

    def finish(self) -> SessionResult:
        """Flush every stage; the whole session's result."""
        if not self._finished:
            self._finished = True
            for foot, engine in self._risk.items():
                self._alerts += engine.finish()
                last_steps = self._gait[foot].finish()
                self._summary[foot].add_steps(last_steps, self._keep_contacts)
                if self._steps is not None:
                    self._steps.setdefault(foot, []).extend(last_steps)
                self._summary[foot].add_activity(self._activity[foot].finish())
                self._summary[foot].cannot_assess = (
                    engine.cannot_assess + engine.not_assessed_lines()
                )
                self._summary[foot].active_s = engine.active_s
        rate = self._sample_rate_hz
        duration_s = 0.0
        if rate is not None and self._last_t_s >= self._first_t_s:
            duration_s = round(self._last_t_s - min(0.0, self._first_t_s) + 1.0 / rate, 3)
        strides = StreamingMedian(5.0, 0.001)
        for summary in self._summary.values():
            strides = strides.merged(summary.stride_s)
        stride_s = strides.median()
        cadence = round(120.0 / stride_s, 1) if stride_s else None
        feet = {foot: self._summary[foot] for foot in FOOT_IDS if foot in self._summary}
        alerts = tuple(sorted(self._alerts, key=lambda a: (a.t_s, a.foot, a.kind)))
        steps: dict[Foot, list[StepMetrics]] = {}
        for foot, foot_steps in (self._steps or {}).items():
            steps[foot] = sorted(foot_steps, key=lambda step: step.t_off_s)
        return SessionResult(duration_s, rate, cadence, feet, alerts, steps)
