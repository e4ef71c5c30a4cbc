"""Scoring the analysis on labelled sessions: detections, misses, false alerts, delays.

The names below are imported from their modules on first use, so `DEFAULT_GRACE_S` (a help
text of `numbguard evaluate`) costs no numpy import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

# How long after a label's end an alert still counts as detecting it: a configurable judgement
# (a warning half a minute late is still useful to a runner), not a published figure.
DEFAULT_GRACE_S: Final = 30.0

if TYPE_CHECKING:
    from numbguard.evaluate.runner import analyze_file, evaluate_folder, labelled_sessions
    from numbguard.evaluate.scoring import (
        Evaluation,
        ScoredSession,
        evaluate_sessions,
        format_table,
        score_session,
    )

_HOMES: Final = {
    "analyze_file": "runner",
    "evaluate_folder": "runner",
    "labelled_sessions": "runner",
    "Evaluation": "scoring",
    "ScoredSession": "scoring",
    "evaluate_sessions": "scoring",
    "format_table": "scoring",
    "score_session": "scoring",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "DEFAULT_GRACE_S",
    "Evaluation",
    "ScoredSession",
    "analyze_file",
    "evaluate_folder",
    "evaluate_sessions",
    "format_table",
    "labelled_sessions",
    "score_session",
]
