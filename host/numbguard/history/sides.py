"""The two sides of a comparison: each a session file, or the indexed sessions whose tags
match a selector such as ``lacing=loose``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from numbguard.errors import BadValue
from numbguard.history.compare import (
    Difference,
    describe_selector,
    median_difference,
    parse_selector,
)
from numbguard.history.index import SessionIndex
from numbguard.history.steps import SUMMARY_METRICS, SessionSteps, read_session_steps
from numbguard.history.tags import read_tags
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot
from numbguard.types import FloatArray


@dataclass(frozen=True)
class Side:
    """What one side of a comparison is called, and its sessions with their tags."""

    name: str  # "A" or "B"
    label: str  # the file's name or the selector
    sessions: tuple[SessionSteps, ...]
    tags: tuple[dict[str, str], ...]

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.sessions)

    @property
    def alerts_per_h(self) -> float | None:
        hours = self.duration_s / 3600.0
        return sum(s.alerts_raised for s in self.sessions) / hours if hours > 0 else None

    def alerts_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self.sessions:
            for kind, count in session.alerts_by_kind.items():
                counts[kind] = counts.get(kind, 0) + count
        return dict(sorted(counts.items()))


def is_selector(text: str) -> bool:
    """A selector names a tag (``TAG=VALUE``) and is no existing file."""
    return "=" in text and not Path(text).exists()


def select_side(text: str, index: SessionIndex | None, *, name: str) -> Side:
    """`text` as one side: an existing session file, or a selector over the index (whose
    stale rows the caller refreshed)."""
    if not is_selector(text):
        path = Path(text)
        if not path.is_file():
            raise BadValue(
                f"side {name}: no such session",
                expected="a session file or a selector such as lacing=loose",
                got=text,
                name=f"side {name}",
            )
        return Side(name, path.name, (read_session_steps(path),), (read_tags(path),))
    selector = parse_selector(text)
    if index is None:
        raise BadValue(
            f"side {name}: a selector needs the session index",
            got=text,
            expected="a session file",
            name=f"side {name}",
        )
    rows = index.sessions(shoe=selector.get("shoe"), lacing=selector.get("lacing"))
    if not rows:
        raise BadValue(
            f"side {name}: no indexed session matches",
            expected="sessions tagged " + describe_selector(selector),
            got="none (see `numbguard history`)",
            name=f"side {name}",
        )
    paths = [Path(row.path) for row in rows]
    return Side(
        name,
        describe_selector(selector),
        tuple(read_session_steps(path) for path in paths),
        tuple(read_tags(path) for path in paths),
    )


def metric_differences(a: Side, b: Side) -> list[Difference]:
    """B minus A for every metric both sides have, per foot: the summary metrics first, then
    each pad in wire order."""
    found: list[Difference] = []
    for foot in FOOT_IDS:
        for metric in (*SUMMARY_METRICS, *PAD_IDS):
            difference = median_difference(
                side_series(a, foot, metric), side_series(b, foot, metric), foot=foot, metric=metric
            )
            if difference is not None:
                found.append(difference)
    return found


def side_series(side: Side, foot: Foot, metric: str) -> list[FloatArray]:
    """One metric's per-step series of each of the side's sessions that has it."""
    return [s.values[foot][metric] for s in side.sessions if metric in s.values.get(foot, {})]
