"""Scoring the analysis on a folder of labelled sessions (`NAME.csv` + `NAME.labels.json`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from numbguard.analysis.risk import RiskConfig
from numbguard.errors import InputError
from numbguard.evaluate import DEFAULT_GRACE_S
from numbguard.evaluate.inputs import analyze_file
from numbguard.evaluate.scoring import Evaluation, ScoredSession, score_session
from numbguard.simulate.files import LABELS_SUFFIX, read_labels

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


def labelled_sessions(folder: Path) -> list[tuple[Path, Path]]:
    """(session CSV, labels) pairs in `folder`, by name; a folder without any is an error."""
    if not folder.is_dir():
        raise InputError("not a folder", expected="a folder of labelled sessions", got=str(folder))
    pairs = []
    for labels in sorted(folder.glob("*" + LABELS_SUFFIX)):
        csv = labels.with_name(labels.name[: -len(LABELS_SUFFIX)] + ".csv")
        if not csv.exists():
            raise InputError("labels without a session", expected=str(csv), got="no such file")
        pairs.append((csv, labels))
    if not pairs:
        raise InputError(
            "no labelled sessions",
            expected=f"NAME.csv with NAME{LABELS_SUFFIX} (see `numbguard simulate`)",
            got=f"none in {folder}",
        )
    return pairs


def evaluate_folder(
    folder: Path,
    *,
    config: RiskConfig | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    progress: Progress | None = None,
) -> Evaluation:
    """Analyse every labelled session in `folder` and score the alerts against the labels."""
    evaluation = Evaluation()
    pairs = labelled_sessions(folder)
    for index, (csv, labels_path) in enumerate(pairs):
        if progress is not None:
            progress(index, len(pairs), csv.stem)
        labels = read_labels(labels_path)
        result = analyze_file(csv, config)
        session = ScoredSession(csv.stem, result.duration_s, labels, result.alerts)
        score_session(session, evaluation, grace_s)
        logger.info("%s: %.0f s, %d labels, %d alerts", csv.name, result.duration_s,
                    len(labels), len(result.alerts))  # fmt: skip
    if progress is not None:
        progress(len(pairs), len(pairs), "")
    return evaluation
