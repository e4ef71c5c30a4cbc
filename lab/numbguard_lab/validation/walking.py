"""Validation of contact detection on the recorded walks in ``../shared/realdata``.

Only development records are used (``gaitndd/dev``, never ``gaitndd/holdout``):

- ``gaitndd``: the whole-sole FSR as the ``heel`` channel, left foot, against the left heel
  strikes and the stride and stance columns of the ``.ts`` files.
- ``gaitpdb``: heel + two forefoot sensors, and the two forefoot sensors alone, both feet,
  against contacts from the 8-sensor total force.
- ``moticon``: the imported pads (heel + forefoot, and forefoot only), both feet, against the
  vendor's heel-strike events (hand-marked ones for ``walk_data_with_events``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from numbguard.analysis.gait import detect_steps
from numbguard.io.moticon import read_moticon, read_moticon_events
from numbguard.pads import FOOT_IDS, FOREFOOT_PADS, Foot
from numbguard.types import FloatArray, PressureChunk, StepMetrics
from numbguard_lab.validation.physionet import (
    GAITPDB_PADS,
    gaitpdb_reference_contacts,
    gaitpdb_total_force,
    read_gaitndd,
    read_gaitndd_events,
    read_gaitpdb,
)
from numbguard_lab.validation.scoring import ContactScore, score_contacts

HEEL_AND_FOREFOOT: Final = "heel + forefoot"
FOREFOOT_ONLY: Final = "forefoot only"
WHOLE_SOLE: Final = "heel channel (whole-sole FSR)"
# How late a contact may start after the reference strike and still be that step: with a
# heel pad the onset is the strike itself; with forefoot pads only it is when the forefoot
# loads, which in slow walking is up to half the stance later.
HEEL_LATE_ONSET_S: Final = 0.15
FOREFOOT_LATE_STANCE_FRACTION: Final = 0.5


def late_onset_s(layout: str, reference_contact_s: FloatArray) -> float:
    if layout != FOREFOOT_ONLY:
        return HEEL_LATE_ONSET_S
    stance_s = float(np.median(reference_contact_s)) if len(reference_contact_s) else 0.0
    return max(0.3, FOREFOOT_LATE_STANCE_FRACTION * stance_s)


@dataclass(frozen=True)
class ValidationRow:
    dataset: str
    record: str
    foot: Foot
    layout: str
    score: ContactScore


def _contacts_of(steps: list[StepMetrics], foot: Foot) -> list[tuple[float, float]]:
    return [(s.t_on_s, s.t_off_s) for s in steps if s.foot == foot]


def _only(chunks: Iterable[PressureChunk], pads: tuple[str, ...]) -> Iterator[PressureChunk]:
    for chunk in chunks:
        kept = {pad: v for pad, v in chunk.pressure_kpa.items() if pad in pads}
        yield PressureChunk(chunk.foot, chunk.t_s, kept, chunk.sample_rate_hz)


def gaitndd_rows(root: Path) -> list[ValidationRow]:
    rows = []
    for header in sorted((root / "gaitndd" / "dev").glob("*.hea")):
        record = header.with_suffix("")
        events = read_gaitndd_events(record)
        contacts = _contacts_of(detect_steps(read_gaitndd(record)), "left")
        score = score_contacts(
            contacts,
            events.left_heel_strike_s,
            events.left_stance_s,
            late_onset_s=late_onset_s(WHOLE_SOLE, events.left_stance_s),
        )
        rows.append(ValidationRow("gaitndd", record.name, "left", WHOLE_SOLE, score))
    return rows


def gaitpdb_rows(root: Path) -> list[ValidationRow]:
    rows = []
    layouts = {
        HEEL_AND_FOREFOOT: tuple(GAITPDB_PADS),
        FOREFOOT_ONLY: tuple(p for p in GAITPDB_PADS if p in FOREFOOT_PADS),
    }
    for path in sorted((root / "gaitpdb").glob("*_*.txt")):
        t_s, totals = gaitpdb_total_force(path)
        references = {foot: gaitpdb_reference_contacts(t_s, totals[foot]) for foot in FOOT_IDS}
        for layout, pads in layouts.items():
            steps = detect_steps(read_gaitpdb(path, pads=pads))
            for foot in FOOT_IDS:
                ref = references[foot]
                contacts = _contacts_of(steps, foot)
                score = score_contacts(
                    contacts,
                    ref.strike_s,
                    ref.contact_s,
                    excluded=ref.excluded,
                    late_onset_s=late_onset_s(layout, ref.contact_s),
                )
                rows.append(ValidationRow("gaitpdb", path.stem, foot, layout, score))
    return rows


def moticon_rows(root: Path) -> list[ValidationRow]:
    rows = []
    folder = root / "moticon_opengo"
    paths = [*sorted(folder.glob("2*.txt")), folder / "walk_data_with_events" / "text_export.txt"]
    layouts: dict[str, Callable[[Path], Iterable[PressureChunk]]] = {
        HEEL_AND_FOREFOOT: lambda p: read_moticon(p),
        FOREFOOT_ONLY: lambda p: _only(read_moticon(p), FOREFOOT_PADS),
    }
    for path in paths:
        if not path.is_file():
            continue
        events = read_moticon_events(path)
        name = path.stem if path.parent == folder else path.parent.name
        for layout, chunks in layouts.items():
            steps = detect_steps(chunks(path))
            for foot in FOOT_IDS:
                strikes = events.heel_strike_s[foot]
                toe_offs = events.toe_off_s[foot]
                stance = np.array(
                    [toe_offs[toe_offs > s][0] - s for s in strikes if np.any(toe_offs > s)]
                )
                contacts = _contacts_of(steps, foot)
                score = score_contacts(
                    contacts,
                    strikes,
                    stance,
                    late_onset_s=late_onset_s(layout, stance),
                )
                rows.append(ValidationRow("moticon", name, foot, layout, score))
    return rows


def validation_rows(root: Path) -> list[ValidationRow]:
    """Every validation row for the data under `root` (``../shared/realdata``)."""
    return gaitndd_rows(root) + gaitpdb_rows(root) + moticon_rows(root)
