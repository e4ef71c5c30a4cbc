"""The field simulator's relation of cadence and contact time to speed and slope, against real
treadmill running (../shared/realdata/running/alcantara2022: one runner, 500 Hz normal force
in body weights, single belt, so contacts alternate between the feet with a flight between).

Only ratios are compared: that runner's cadence (185-210 steps/min) is higher than the
recreational level the model keeps from the product brief.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from numbguard.simulate import physical

SAMPLE_RATE_HZ = 500.0
CONTACT_BW = 0.05  # ~38 N for this 76.8 kg runner: the field's usual 20-50 N contact threshold


def trials(realdata: Path) -> dict[tuple[float, float], list[tuple[float, float]]]:
    """(speed m/s, slope degrees) -> per trial (median contact s, median step s)."""
    folder = realdata / "running" / "alcantara2022"
    force = np.genfromtxt(folder / "GRF_one_sub.csv", delimiter=",")
    with (folder / "Sub_Info_one_sub.csv").open() as file:
        info = list(csv.DictReader(file))
    assert len(info) == len(force)
    out: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for row, trial in zip(force, info, strict=True):
        loaded = np.nan_to_num(row) > CONTACT_BW
        edges = np.diff(loaded.astype(np.int8))
        on = np.flatnonzero(edges == 1) + 1
        off = np.flatnonzero(edges == -1) + 1
        off = off[off > on[0]]
        n = min(len(on), len(off))
        contact_s = float(np.median(off[:n] - on[:n])) / SAMPLE_RATE_HZ
        step_s = float(np.median(np.diff(on))) / SAMPLE_RATE_HZ
        key = (float(trial["Speed"]), float(trial["Slope"]))
        out.setdefault(key, []).append((contact_s, step_s))
    return out


def median(values: list[tuple[float, float]], index: int) -> float:
    return float(np.median([v[index] for v in values]))


def grade_pct(degrees: float) -> float:
    return 100.0 * math.tan(math.radians(degrees))


def test_contact_time_and_cadence_follow_speed_as_in_real_running(realdata: Path) -> None:
    real = trials(realdata)
    slow, fast = real[(2.5, 0.0)], real[(4.17, 0.0)]
    assert 0.2 < median(slow, 0) < 0.3  # the data are what the README says
    contact_ratio = median(fast, 0) / median(slow, 0)
    model = physical.running_contact_s(4.17) / physical.running_contact_s(2.5)
    assert model == pytest.approx(contact_ratio, rel=0.05)
    cadence_ratio = median(slow, 1) / median(fast, 1)
    model = physical.running_cadence_spm(4.17) / physical.running_cadence_spm(2.5)
    assert model == pytest.approx(cadence_ratio, rel=0.03)


@pytest.mark.parametrize("degrees", [5.0, -5.0])
def test_contact_time_and_cadence_follow_slope_as_in_real_running(
    realdata: Path, degrees: float
) -> None:
    real = trials(realdata)
    level, sloped = real[(3.33, 0.0)], real[(3.33, degrees)]
    grade = grade_pct(degrees)
    contact = physical.running_contact_s(3.33, grade) / physical.running_contact_s(3.33)
    assert contact == pytest.approx(median(sloped, 0) / median(level, 0), abs=0.04)
    cadence = physical.running_cadence_spm(3.33, grade) / physical.running_cadence_spm(3.33)
    assert cadence == pytest.approx(median(level, 1) / median(sloped, 1), abs=0.03)
