"""Scoring alerts against labelled sessions: detections, misses, false alerts, delays.

An alert (raised, not a clearing event) of kind K on foot F detects a label (K, F) when it
comes between the label's onset and `grace_s` after its end; the first one gives the
detection delay. An alert that fits no label is a false alert. Escalations of an alert already
matched are neither new detections nor false alerts.

The headline figures (`Headline`) are the ones a runner would judge the product by:

- labelled conditions caught within `CATCH_S` (60 s) of their onset, n of N;
- false alerts per hour of normal running: alert episodes (a raise, not its escalations) in
  sessions without labels, over those sessions' hours;
- normal sessions (no labels) that raised any alert, n of N;
- right advice: labels with an expected advice whose detecting alert leads with it, n of N
  (a missed condition got no advice, so it counts against).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numbguard.analysis.risk import is_clearing
from numbguard.evaluate import DEFAULT_GRACE_S
from numbguard.simulate.scenarios import Label
from numbguard.types import Alert


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


CATCH_S = 60.0  # a condition counts as caught when alerted within this of its onset (issue 11)


@dataclass(frozen=True)
class LabelOutcome:
    """What happened to one labelled condition."""

    session: str
    label: Label
    delay_s: float | None  # to the first matching alert; None when missed
    advice_given: str  # the first suggestion of that alert ("" when missed or none)

    @property
    def caught(self) -> bool:
        return self.delay_s is not None and self.delay_s <= CATCH_S

    @property
    def advice_right(self) -> bool:
        return bool(self.label.advice) and self.advice_given == self.label.advice

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            **self.label.to_json(),
            "delay_s": None if self.delay_s is None else round(self.delay_s, 1),
            "caught": self.caught,
            "advice_given": self.advice_given,
        }


@dataclass
class Headline:
    """The headline figures over a set of sessions (see the module doc)."""

    outcomes: list[LabelOutcome] = field(default_factory=list)
    normal_sessions: int = 0
    normal_alerted: list[str] = field(default_factory=list)  # session names
    normal_duration_s: float = 0.0
    normal_false: list[str] = field(default_factory=list)  # "session:foot kind@t"

    @property
    def caught(self) -> int:
        return sum(o.caught for o in self.outcomes)

    @property
    def with_advice(self) -> int:
        return sum(bool(o.label.advice) for o in self.outcomes)

    @property
    def advice_right(self) -> int:
        return sum(o.advice_right for o in self.outcomes)

    @property
    def false_per_hour(self) -> float | None:
        hours = self.normal_duration_s / 3600.0
        return len(self.normal_false) / hours if hours > 0 else None

    def to_json(self) -> dict[str, Any]:
        per_hour = self.false_per_hour
        return {
            "caught_within_60_s": {"n": self.caught, "of": len(self.outcomes)},
            "false_alerts_per_hour_normal": None if per_hour is None else round(per_hour, 2),
            "normal_hours": round(self.normal_duration_s / 3600.0, 3),
            "normal_sessions_alerted": {
                "n": len(self.normal_alerted),
                "of": self.normal_sessions,
                "names": self.normal_alerted,
            },
            "right_advice": {"n": self.advice_right, "of": self.with_advice},
            "normal_false_alerts": self.normal_false,
            "labels": [o.to_json() for o in self.outcomes],
        }


@dataclass
class Evaluation:
    """Scores per kind over a set of sessions."""

    sessions: int = 0
    duration_s: float = 0.0
    kinds: dict[str, KindScore] = field(default_factory=dict)
    headline: Headline = field(default_factory=Headline)

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
            "headline": self.headline.to_json(),
        }


def _matches(alert: Alert, label: Label, grace_s: float) -> bool:
    return (
        alert.kind == label.kind
        and alert.foot == label.foot
        and label.onset_s <= alert.t_s <= label.end_s + grace_s
    )


def episodes(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts that start an episode: a raise of a kind on a foot not already raised
    (escalations and clearing events left out)."""
    active: set[tuple[str, str]] = set()
    starts = []
    for alert in sorted(alerts, key=lambda a: a.t_s):
        key = (alert.kind, alert.foot)
        if is_clearing(alert):
            active.discard(key)
        elif key not in active:
            active.add(key)
            starts.append(alert)
    return starts


def score_session(
    session: ScoredSession, evaluation: Evaluation, grace_s: float = DEFAULT_GRACE_S
) -> None:
    """Add one session's detections, misses, false alerts and delays to `evaluation`."""
    evaluation.sessions += 1
    evaluation.duration_s += session.duration_s
    raised = sorted((a for a in session.alerts if not is_clearing(a)), key=lambda a: a.t_s)
    headline = evaluation.headline
    for label in session.labels:
        score = evaluation.kind(label.kind)
        score.labels += 1
        hits = [a for a in raised if _matches(a, label, grace_s)]
        if hits:
            score.detections += 1
            score.delays_s.append(hits[0].t_s - label.onset_s)
        else:
            score.misses += 1
            score.missed_in.append(f"{session.name}:{label.foot}")
        first = hits[0] if hits else None
        headline.outcomes.append(
            LabelOutcome(
                session.name,
                label,
                None if first is None else first.t_s - label.onset_s,
                first.suggestions[0] if first is not None and first.suggestions else "",
            )
        )
    if not session.labels:
        headline.normal_sessions += 1
        headline.normal_duration_s += session.duration_s
        starts = episodes(session.alerts)
        headline.normal_false += [f"{session.name}:{a.foot} {a.kind}@{a.t_s:g}" for a in starts]
        if starts:
            headline.normal_alerted.append(session.name)
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


def format_headline(evaluation: Evaluation) -> str:
    """The headline figures, one per line, with what was missed or raised falsely."""
    h = evaluation.headline
    per_hour = h.false_per_hour
    lines = [
        f"labelled conditions caught within {CATCH_S:g} s of onset: "
        f"{h.caught} of {len(h.outcomes)}",
        "false alerts per hour of normal running: "
        + ("-" if per_hour is None else f"{per_hour:.2f}")
        + f" ({len(h.normal_false)} in {h.normal_duration_s / 3600.0:.2f} h)",
        f"normal sessions that raised any alert: {len(h.normal_alerted)} of {h.normal_sessions}",
        f"right advice given: {h.advice_right} of {h.with_advice}",
    ]
    for o in h.outcomes:
        if not o.caught:
            when = "missed" if o.delay_s is None else f"late by {o.delay_s:.0f} s"
            lines.append(f"  not caught: {o.session} {o.label.kind} {o.label.foot} ({when})")
        elif o.label.advice and not o.advice_right:
            given = o.advice_given or "none"
            lines.append(f"  advice: {o.session} {o.label.kind}: {given!r}")
    lines += [f"  false alert (normal): {text}" for text in h.normal_false]
    return "\n".join(lines)
