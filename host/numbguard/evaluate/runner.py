"""Scoring the analysis on a folder of labelled sessions (`NAME.csv` + `NAME.labels.json`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from numbguard.analysis.pipeline import SessionResult
from numbguard.analysis.risk import RiskConfig
from numbguard.errors import BadValue, UnreadableFile
from numbguard.evaluate import DEFAULT_GRACE_S
from numbguard.evaluate.scoring import Evaluation, ScoredSession, score_session
from numbguard.session.sources import analyse_session
from numbguard.simulate.files import LABELS_SUFFIX, read_labels

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


# A labelled session is NAME + one of these, beside NAME.labels.json: a simulated or
# exported CSV, a recording, or a Moticon text export.
SESSION_SUFFIXES = (".csv", ".ngrec", ".txt")


def labelled_sessions(folder: Path) -> list[tuple[Path, Path]]:
    """(session file, labels) pairs in `folder`, by name; a folder without any is an error."""
    if not folder.is_dir():
        reason = "not a folder" if folder.exists() else "no such folder"
        raise UnreadableFile(
            folder, reason, expected="a folder of labelled sessions", message="cannot open folder"
        )
    pairs = []
    for labels in sorted(folder.glob("*" + LABELS_SUFFIX)):
        stem = labels.name[: -len(LABELS_SUFFIX)]
        found = [labels.with_name(stem + suffix) for suffix in SESSION_SUFFIXES]
        sessions = [path for path in found if path.exists()]
        if not sessions:
            raise UnreadableFile(
                labels,
                "none beside it",
                expected=" or ".join(path.name for path in found),
                message="labels without a session",
            )
        pairs.append((sessions[0], labels))
    if not pairs:
        raise UnreadableFile(
            folder,
            "none",
            expected=f"NAME.csv, .ngrec or .txt with NAME{LABELS_SUFFIX} (`numbguard simulate`)",
            message="no labelled sessions",
        )
    return pairs


def analyze_file(path: Path, config: RiskConfig | None = None) -> SessionResult:
    """One session file's analysis, whatever its format (`session.sources`); a damaged
    recording is analysed up to its damage, with a warning in the log."""
    result, warning = analyse_session(path, config=config)
    if warning is not None:
        logger.warning("%s", warning)
    return result


def evaluate_folder(
    folder: Path,
    *,
    config: RiskConfig | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Evaluation:
    """Analyse every labelled session in `folder` and score the alerts against the labels.

    `jobs` processes analyse the files (default: one per CPU), one file each at a time; the
    scores are added in file order, so any number of jobs gives the same evaluation.
    """
    evaluation = Evaluation()
    pairs = labelled_sessions(folder)
    labels = [read_labels(labels_path) for _, labels_path in pairs]
    if jobs is not None and jobs < 1:
        raise BadValue("bad number of jobs", expected="1 or more", got=str(jobs), name="jobs")
    workers = min(jobs or os.cpu_count() or 1, len(pairs))
    names = [csv.stem for csv, _ in pairs]
    if progress is not None:
        progress(0, len(pairs), names[0])
    for index, result in enumerate(_results([csv for csv, _ in pairs], config, workers)):
        session = ScoredSession(names[index], result.duration_s, labels[index], result.alerts)
        score_session(session, evaluation, grace_s)
        logger.info("%s: %.0f s, %d labels, %d alerts", names[index], result.duration_s,
                    len(labels[index]), len(result.alerts))  # fmt: skip
        if progress is not None:  # done, and the next in order
            progress(index + 1, len(pairs), names[index + 1] if index + 1 < len(pairs) else "")
    return evaluation


def _results(paths: list[Path], config: RiskConfig | None, workers: int) -> Iterator[SessionResult]:
    """Each file's analysis, in the order of `paths`."""
    if workers <= 1:
        for path in paths:
            yield analyze_file(path, config)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(analyze_file, paths, [config] * len(paths))
