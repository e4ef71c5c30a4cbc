"""Validation of contact detection on the treadmill runs in ``../shared/realdata/running``.

Each trial is detected per foot as an insole at 100 Hz would read it (`treadmill.insole_chunks`,
every sampling phase of the 500 Hz force) and scored against the force-threshold reference
(`treadmill.foot_reference_contacts`, 50 N on the 500 Hz force): each reference contact is
matched by the detected contact of the same foot that overlaps it, and the onset, the end and
the contact time are compared on the matched pairs.

The trials are split once into a tuning set (even rows) and a held-out set (odd rows): the
detector's settings are chosen on the tuning set only; the held-out figures are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from numbguard.analysis.gait import detect_steps
from numbguard.pads import FOOT_IDS
from numbguard.types import FloatArray
from numbguard_lab.validation.treadmill import (
    FORCE_RATE_HZ,
    INSOLE_RATE_HZ,
    TreadmillTrial,
    foot_reference_contacts,
    insole_chunks,
    read_trials,
)

DATASET: Final = Path("running") / "alcantara2022"
PHASES: Final = round(FORCE_RATE_HZ / INSOLE_RATE_HZ)  # sampling phases of 100 Hz in 500 Hz


def is_tuning(trial: TreadmillTrial) -> bool:
    """The tuning set: even rows of the dataset; odd rows are held out."""
    return trial.index % 2 == 0


@dataclass(frozen=True)
class RunningRow:
    """One trial's detected contacts against the reference, over every sampling phase."""

    trial: TreadmillTrial
    n_reference: int  # reference contacts, both feet, times the phases
    n_detected: int  # detected contacts inside the scored span
    n_matched: int
    onset_error_s: FloatArray  # detected - reference, per matched contact
    end_error_s: FloatArray
    contact_s: FloatArray  # detected, per matched contact
    reference_contact_s: FloatArray

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_reference if self.n_reference else float("nan")

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_detected if self.n_detected else float("nan")

    @property
    def contact_error(self) -> float:
        """Relative error of the median contact time (detected / reference - 1)."""
        if not len(self.contact_s):
            return float("nan")
        return float(np.median(self.contact_s) / np.median(self.reference_contact_s) - 1.0)


def _score(trial: TreadmillTrial) -> RunningRow:
    references = foot_reference_contacts(trial)
    n_reference = n_detected = 0
    pairs: list[tuple[float, float, float, float]] = []  # det on, det off, ref on, ref off
    for phase in range(PHASES):
        steps = detect_steps(insole_chunks(trial, phase=phase))
        for foot in FOOT_IDS:
            reference = references[foot]
            n_reference += len(reference)
            if not reference:
                continue
            span = (reference[0][0] - 0.1, reference[-1][1] + 0.1)
            detected = [
                (s.t_on_s, s.t_off_s)
                for s in steps
                if s.foot == foot and span[0] <= s.t_on_s <= span[1]
            ]
            n_detected += len(detected)
            used: set[int] = set()
            for ref_on, ref_off in reference:
                for k, (on, off) in enumerate(detected):
                    if k not in used and on < ref_off and ref_on < off:
                        used.add(k)
                        pairs.append((on, off, ref_on, ref_off))
                        break
    table = np.array(pairs).reshape(-1, 4)
    return RunningRow(
        trial=trial,
        n_reference=n_reference,
        n_detected=n_detected,
        n_matched=len(pairs),
        onset_error_s=table[:, 0] - table[:, 2],
        end_error_s=table[:, 1] - table[:, 3],
        contact_s=table[:, 1] - table[:, 0],
        reference_contact_s=table[:, 3] - table[:, 2],
    )


def running_rows(root: Path) -> list[RunningRow]:
    """One row per treadmill trial under `root` (``../shared/realdata``)."""
    return [_score(trial) for trial in read_trials(root / DATASET)]
