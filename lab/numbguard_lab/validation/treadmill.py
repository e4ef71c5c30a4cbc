"""Reader of the treadmill running force in ``../shared/realdata/running/alcantara2022``.

Alcantara et al. 2022 (PeerJ 10:e12752), github.com/alcantarar/Recurrent_GRF_Prediction,
Apache License 2.0: one runner, 31 trials of about 5 s, normal ground reaction force in body
weights at 500 Hz from a single-belt instrumented treadmill, at 2.5-4.17 m/s and -10 to +10
degrees. ``GRF_one_sub.csv`` holds one trial per row; ``Sub_Info_one_sub.csv`` one row per
trial (mass, foot-strike pattern, speed, slope) in the same order.

The belt carries both feet, so its force is one contact after the other with a flight phase
between. `foot_signals` turns a trial into what two insoles would read: contacts alternate
between the feet (the data has no foot labels; the first is called left), each foot's signal
is the belt force from the middle of the flight before its contact to the middle of the flight
after, and the flight reading held in between. `insole_chunks` samples that at an insole's
rate and scales body weights to kPa (`KPA_PER_BW`) as one plantar channel: the detector sums
the plantar pads into one load, which is what this signal stands for.

`reference_contacts` is the force-threshold reference the field uses (20-50 N; `REFERENCE_N`),
found on the 500 Hz force with linear interpolation, complete contacts only.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from numbguard.errors import InputError
from numbguard.pads import FOOT_IDS, Foot
from numbguard.types import FloatArray, PressureChunk

GRF_FILE: Final = "GRF_one_sub.csv"
INFO_FILE: Final = "Sub_Info_one_sub.csv"
FORCE_RATE_HZ: Final = 500.0
GRAVITY_M_S2: Final = 9.81
# The contact definition: force above 50 N (the upper end of the field's usual 20-50 N).
REFERENCE_N: Final = 50.0
# Contact cores for splitting the belt force between the feet: well above the flight reading
# (within +-0.08 BW here) and well below any stance force (over 1 BW after the first 30 ms).
CORE_BW: Final = 0.3
# Body weights to kPa for the insole channel: a 2.5 BW running peak reads 625 kPa, within the
# range of forefoot peaks in running and under the detector's 1500 kPa plausibility limit.
KPA_PER_BW: Final = 250.0
INSOLE_RATE_HZ: Final = 100.0
_INFO_COLUMNS: Final = ("Mass", "RFS", "MFS", "FFS", "Speed", "Slope")


@dataclass(frozen=True)
class TreadmillTrial:
    """One trial: its force and conditions."""

    index: int  # row in the files, from 0
    speed_m_s: float
    slope_deg: float
    mass_kg: float
    rearfoot_pct: float  # foot-strike pattern: share of rearfoot, midfoot, forefoot strikes
    midfoot_pct: float
    forefoot_pct: float
    force_bw: FloatArray  # normal force, body weights, at FORCE_RATE_HZ

    @property
    def t_s(self) -> FloatArray:
        return np.arange(len(self.force_bw)) / FORCE_RATE_HZ

    @property
    def strike(self) -> str:
        """The most common foot-strike pattern: rearfoot, midfoot or forefoot."""
        shares = {"rearfoot": self.rearfoot_pct, "midfoot": self.midfoot_pct}
        shares["forefoot"] = self.forefoot_pct
        return max(shares, key=lambda name: shares[name])


def parse_force_rows(text: str, where: str = GRF_FILE) -> list[FloatArray]:
    """The trials of a force file: one row of comma-separated body weights per trial."""
    rows: list[FloatArray] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = np.array([float(cell) for cell in line.split(",")], dtype=np.float64)
        except ValueError:
            raise InputError(
                "not a number",
                expected="comma-separated forces in body weights",
                got=repr(line[:40]),
                where=f"{where}:{number}",
            ) from None
        if len(values) < 2 or not np.all(np.isfinite(values)):
            raise InputError(
                "bad force row",
                expected="at least two finite forces",
                got=f"{len(values)} values, finite: {bool(np.all(np.isfinite(values)))}",
                where=f"{where}:{number}",
            )
        rows.append(values)
    if not rows:
        raise InputError(
            "no trials", expected="one row of forces per trial", got="none", where=where
        )
    return rows


def parse_trial_info(text: str, where: str = INFO_FILE) -> list[dict[str, float]]:
    """Mass, strike pattern (%), speed and slope per trial, from the info file."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in _INFO_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            "missing columns",
            expected=", ".join(_INFO_COLUMNS),
            got=", ".join(reader.fieldnames or []) or "no header",
            where=where,
        )
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            values = {name: float(row[name]) for name in _INFO_COLUMNS}
        except (TypeError, ValueError):
            raise InputError(
                "not a number",
                expected=f"numbers in {', '.join(_INFO_COLUMNS)}",
                got=repr({name: row.get(name) for name in _INFO_COLUMNS}),
                where=f"{where}:{number}",
            ) from None
        if not all(np.isfinite(list(values.values()))) or values["Mass"] <= 0:
            raise InputError(
                "bad trial info",
                expected="finite values and a positive mass",
                got=repr(values),
                where=f"{where}:{number}",
            )
        rows.append(values)
    return rows


def read_trials(folder: Path | str) -> list[TreadmillTrial]:
    """Every trial of the dataset in `folder` (``running/alcantara2022``)."""
    folder = Path(folder)
    forces = parse_force_rows((folder / GRF_FILE).read_text(encoding="utf-8"))
    infos = parse_trial_info((folder / INFO_FILE).read_text(encoding="utf-8"))
    if len(forces) != len(infos):
        raise InputError(
            "trials and their info differ in number",
            expected=f"{len(forces)} rows in {INFO_FILE}",
            got=str(len(infos)),
            where=str(folder),
        )
    return [
        TreadmillTrial(
            index=index,
            speed_m_s=info["Speed"],
            slope_deg=info["Slope"],
            mass_kg=info["Mass"],
            rearfoot_pct=info["RFS"],
            midfoot_pct=info["MFS"],
            forefoot_pct=info["FFS"],
            force_bw=force,
        )
        for index, (force, info) in enumerate(zip(forces, infos, strict=True))
    ]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _segments(force_bw: FloatArray) -> list[tuple[int, int]]:
    """[start, stop) of each contact's share of the force: from the middle of the flight
    before it (between the contact cores) to the middle of the flight after it."""
    cores = _runs(force_bw > CORE_BW)
    bounds = [0]
    for (_, stop), (start, _) in itertools.pairwise(cores):
        bounds.append((stop + start) // 2)
    bounds.append(len(force_bw))
    return list(itertools.pairwise(bounds))


def foot_signals(trial: TreadmillTrial) -> dict[Foot, FloatArray]:
    """The force each foot's insole would read (body weights, FORCE_RATE_HZ): its own
    contacts, alternating; in the other foot's contacts the flight reading, held."""
    segments = _segments(trial.force_bw)
    index = np.arange(len(trial.force_bw))
    signals: dict[Foot, FloatArray] = {}
    for parity, foot in enumerate(FOOT_IDS):
        own = np.zeros(len(index), dtype=bool)
        for start, stop in segments[parity::2]:
            own[start:stop] = True
        signals[foot] = (
            np.interp(index, index[own], trial.force_bw[own])
            if own.any()
            else (np.zeros(len(index)))
        )
    return signals


def insole_chunks(
    trial: TreadmillTrial, *, rate_hz: float = INSOLE_RATE_HZ, phase: int = 0
) -> list[PressureChunk]:
    """Both feet as an insole samples them: every `FORCE_RATE_HZ / rate_hz`-th sample from
    `phase`, in kPa, as one plantar channel (``heel``), one chunk per foot."""
    step = round(FORCE_RATE_HZ / rate_hz)
    if step < 1 or abs(FORCE_RATE_HZ / step - rate_hz) > 1e-9 or not 0 <= phase < step:
        raise InputError(
            "bad insole rate or phase",
            expected=f"a rate dividing {FORCE_RATE_HZ:g} Hz, 0 <= phase < {FORCE_RATE_HZ:g} / rate",
            got=f"{rate_hz} Hz, phase {phase}",
        )
    t_s = trial.t_s[phase::step]
    return [
        PressureChunk(foot, t_s, {"heel": force[phase::step] * KPA_PER_BW}, rate_hz)
        for foot, force in foot_signals(trial).items()
    ]


def _crossing_s(force: FloatArray, k: int, level: float) -> float:
    """Time where the force crosses `level` between samples k and k+1."""
    y0, y1 = float(force[k]), float(force[k + 1])
    fraction = (level - y0) / (y1 - y0) if y1 != y0 else 0.0
    return (k + min(1.0, max(0.0, fraction))) / FORCE_RATE_HZ


def reference_contacts(
    force_bw: FloatArray, mass_kg: float, threshold_n: float = REFERENCE_N
) -> list[tuple[float, float]]:
    """(on, off) in seconds of each complete contact: force above `threshold_n`."""
    level = threshold_n / (mass_kg * GRAVITY_M_S2)
    contacts = []
    for start, stop in _runs(force_bw > level):
        if start == 0 or stop == len(force_bw):
            continue  # cut by the start or end of the trial
        if np.max(force_bw[start:stop]) <= CORE_BW:
            continue  # a ripple of the belt, not a contact
        contacts.append(
            (_crossing_s(force_bw, start - 1, level), _crossing_s(force_bw, stop - 1, level))
        )
    return contacts


def foot_reference_contacts(
    trial: TreadmillTrial, threshold_n: float = REFERENCE_N
) -> dict[Foot, list[tuple[float, float]]]:
    """The reference contacts of each foot (alternating, as in `foot_signals`)."""
    return {
        foot: reference_contacts(force, trial.mass_kg, threshold_n)
        for foot, force in foot_signals(trial).items()
    }
