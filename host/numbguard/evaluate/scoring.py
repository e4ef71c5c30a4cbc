"""Scoring alerts against labelled sessions: detections, misses, false alerts, delays.

An alert (raised, not a clearing event) of kind K on foot F detects a label (K, F) when it
comes between the label's onset and `grace_s` after its end; the first one gives the
detection delay. An alert that fits no label is a false alert. Escalations of an alert already
matched are neither new detections nor false alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numbguard.analysis.risk import is_clearing
from numbguard.analysis.types import Alert
from numbguard.evaluate import DEFAULT_GRACE_S
from numbguard.simulate.scenarios import Label


@dataclass(frozen=True)
class ScoredSession:
    """One session's labels and alerts, and its length."""

    name: str
    duration_s: float
    labels: tuple[Label, ...]
    alerts: tuple[Alert, ...]


@dataclass
class KindScore:
    kind: str
    labels: int = 0
    detections: int = 0
    misses: int = 0
    false_alerts: int = 0
    delays_s: list[float] = field(default_factory=list)
    missed_in: list[str] = field(default_factory=list)
    false_in: list[str] = field(default_factory=list)

    def to_json(self, hours: float) -> dict[str, Any]:
        delays = np.asarray(self.delays_s)
        return {
            "labels": self.labels,
            "detections": self.detections,
            "misses": self.misses,
            "false_alerts": self.false_alerts,
            "false_alerts_per_hour": round(self.false_alerts / hours, 2) if hours > 0 else None,
            "delay_s_median": round(float(np.median(delays)), 1) if len(delays) else None,
            "delay_s_max": round(float(delays.max()), 1) if len(delays) else None,
            "missed_in": self.missed_in,
            "false_in": self.false_in,
        }


@dataclass
class Evaluation:
    """Scores per kind over a set of sessions."""

    sessions: int = 0
    duration_s: float = 0.0
    kinds: dict[str, KindScore] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return self.duration_s / 3600.0

    def kind(self, kind: str) -> KindScore:
        return self.kinds.setdefault(kind, KindScore(kind))

    def to_json(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "duration_h": round(self.hours, 3),
            "kinds": {k: self.kinds[k].to_json(self.hours) for k in sorted(self.kinds)},
        }


def _matches(alert: Alert, label: Label, grace_s: float) -> bool:
    return (
        alert.kind == label.kind
        and alert.foot == label.foot
        and label.onset_s <= alert.t_s <= label.end_s + grace_s
    )


def score_session(
    session: ScoredSession, evaluation: Evaluation, grace_s: float = DEFAULT_GRACE_S
) -> None:
    """Add one session's detections, misses, false alerts and delays to `evaluation`."""
    evaluation.sessions += 1
    evaluation.duration_s += session.duration_s
    raised = [a for a in session.alerts if not is_clearing(a)]
    for label in session.labels:
        score = evaluation.kind(label.kind)
        score.labels += 1
        hits = [a.t_s for a in raised if _matches(a, label, grace_s)]
        if hits:
            score.detections += 1
            score.delays_s.append(min(hits) - label.onset_s)
        else:
            score.misses += 1
            score.missed_in.append(f"{session.name}:{label.foot}")
    for alert in raised:
        if not any(_matches(alert, label, grace_s) for label in session.labels):
            score = evaluation.kind(alert.kind)
            score.false_alerts += 1
            score.false_in.append(f"{session.name}:{alert.foot}@{alert.t_s:g}")


def evaluate_sessions(
    sessions: Iterable[ScoredSession], grace_s: float = DEFAULT_GRACE_S
) -> Evaluation:
    evaluation = Evaluation()
    for session in sessions:
        score_session(session, evaluation, grace_s)
    return evaluation


def format_table(evaluation: Evaluation, kinds: Sequence[str] | None = None) -> str:
    """A plain-text table, one row per kind."""
    header = (
        f"{'kind':<22}{'labels':>7}{'detect':>7}{'miss':>6}{'false':>6}"
        f"{'false/h':>9}{'delay med':>10}{'delay max':>10}"
    )
    rows = [header, "-" * len(header)]
    hours = evaluation.hours
    for kind in kinds or sorted(evaluation.kinds):
        s = evaluation.kind(kind).to_json(hours)

        def num(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        rows.append(
            f"{kind:<22}{s['labels']:>7}{s['detections']:>7}{s['misses']:>6}{s['false_alerts']:>6}"
            f"{num(s['false_alerts_per_hour']):>9}{num(s['delay_s_median']):>10}"
            f"{num(s['delay_s_max']):>10}"
        )
    rows.append(f"{evaluation.sessions} sessions, {hours:.2f} h")
    return "\n".join(rows)
