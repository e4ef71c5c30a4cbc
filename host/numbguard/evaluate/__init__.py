"""Scoring the analysis on labelled sessions: detections, misses, false alerts, delays."""

from numbguard.evaluate.inputs import analyze_file, open_session
from numbguard.evaluate.runner import evaluate_folder, labelled_sessions
from numbguard.evaluate.scoring import (
    Evaluation,
    ScoredSession,
    evaluate_sessions,
    format_table,
    score_session,
)

__all__ = [
    "Evaluation",
    "ScoredSession",
    "analyze_file",
    "evaluate_folder",
    "evaluate_sessions",
    "format_table",
    "labelled_sessions",
    "open_session",
    "score_session",
]
