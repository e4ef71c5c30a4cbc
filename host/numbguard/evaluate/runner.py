"""Scoring the analysis on a folder of labelled sessions (`NAME.csv` + `NAME.labels.json`).

Sessions are analysed one process per file on up to `jobs` cores (the sessions are
independent, and the analysis of one is single-threaded numpy); results are scored in name
order, so the figures do not depend on the number of processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from numbguard.analysis.risk import RiskConfig
from numbguard.analysis.types import Alert
from numbguard.errors import InputError
from numbguard.evaluate.inputs import analyze_file
from numbguard.evaluate.scoring import DEFAULT_GRACE_S, Evaluation, ScoredSession, score_session
from numbguard.simulate.files import LABELS_SUFFIX, read_labels

log = logging.getLogger(__name__)

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


def _analyze(csv: Path, config: RiskConfig | None) -> tuple[float, tuple[Alert, ...]]:
    """One session's length and alerts (what a worker process sends back)."""
    result = analyze_file(csv, config)
    return result.duration_s, result.alerts


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def evaluate_folder(
    folder: Path,
    *,
    config: RiskConfig | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Evaluation:
    """Analyse every labelled session in `folder` and score the alerts against the labels."""
    pairs = labelled_sessions(folder)
    labels = [read_labels(labels_path) for _csv, labels_path in pairs]  # bad labels fail first
    workers = min(len(pairs), jobs if jobs is not None else default_jobs())
    if workers < 1:
        raise InputError("bad number of jobs", expected="1 or more", got=repr(jobs))
    results: list[tuple[float, tuple[Alert, ...]]] = []
    if workers == 1:
        for index, (csv, _labels) in enumerate(pairs):
            if progress is not None:
                progress(index, len(pairs), csv.stem)
            results.append(_analyze(csv, config))
    else:
        log.info("evaluating %d sessions in %d processes", len(pairs), workers)
        # spawn: a fresh interpreter per worker, safe whatever threads the caller runs.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures: list[Future[tuple[float, tuple[Alert, ...]]]] = [
                pool.submit(_analyze, csv, config) for csv, _labels in pairs
            ]
            for index, ((csv, _labels), future) in enumerate(zip(pairs, futures, strict=True)):
                if progress is not None:
                    progress(index, len(pairs), csv.stem)
                results.append(future.result())
    if progress is not None:
        progress(len(pairs), len(pairs), "")
    evaluation = Evaluation()
    for (csv, _labels), session_labels, (duration_s, alerts) in zip(
        pairs, labels, results, strict=True
    ):
        score_session(
            ScoredSession(csv.stem, duration_s, session_labels, alerts), evaluation, grace_s
        )
    return evaluation
