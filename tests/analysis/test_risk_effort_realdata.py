"""The forefoot rule's load-effort relation, checked on real treadmill running.

../shared/realdata/running/alcantara2022 (Alcantara et al. 2022, PeerJ 10:e12752): 31 trials of
one runner, normal force at 500 Hz in body weights, 2.5-4.17 m/s, slopes -10 to +10 degrees.
Contacts are taken where the force passes 50 N (the field's usual 20-50 N definition); each
contact's peak against the contact duty (contact time over stride time, two steps) gives the
relation `RiskConfig.forefoot_effort_exponent` stands for. Without the data these tests fail
(tests/realdata.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from numbguard.analysis.risk import RiskConfig
from tests.realdata import need, records

RATE_HZ = 500.0
MASS_KG = 76.8  # Sub_Info_one_sub.csv
CONTACT_N = 50.0


def trials(folder: Path) -> list[tuple[float, float, float, float]]:
    """Per trial: (speed m/s, slope degrees, median contact duty, median peak in body weights)."""
    forces = np.genfromtxt(folder / "GRF_one_sub.csv", delimiter=",")
    with (folder / "Sub_Info_one_sub.csv").open(newline="") as handle:
        info = list(csv.DictReader(handle))
    assert len(info) == len(forces), "one info row per force trial"
    out: list[tuple[float, float, float, float]] = []
    for row, meta in zip(forces, info, strict=True):
        force_bw = row[np.isfinite(row)]
        loaded = force_bw * MASS_KG * 9.81 > CONTACT_N
        edges = np.diff(loaded.astype(np.int8))
        ons, offs = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1) + 1
        contacts = [(on, offs[offs > on][0]) for on in ons if (offs > on).any()]
        contact_s = np.median([(off - on) / RATE_HZ for on, off in contacts])
        step_s = np.median(np.diff(ons)) / RATE_HZ  # contacts alternate between the feet
        peak = np.median([force_bw[on:off].max() for on, off in contacts])
        out.append((float(meta["Speed"]), float(meta["Slope"]), contact_s / (2 * step_s), peak))
    return out


@pytest.fixture(scope="module")
def treadmill() -> np.ndarray:
    path = need(records("running/alcantara2022/GRF_one_sub.csv")[0], "running/alcantara2022")
    return np.array(trials(path.parent))


def test_the_effort_exponent_is_the_fit_on_level_running(treadmill: np.ndarray) -> None:
    level = treadmill[treadmill[:, 1] == 0]
    assert len(level) >= 5 and set(level[:, 0]) >= {2.5, 3.33, 4.17}
    slope, _ = np.polyfit(np.log(level[:, 2]), np.log(level[:, 3]), 1)
    assert RiskConfig().forefoot_effort_exponent == pytest.approx(-slope, abs=0.05)
    # Over all slopes the relation is steeper (about 1, the sine-impulse model): the level
    # fit is the one that scales less, so a real rise is not explained away.
    steep, _ = np.polyfit(np.log(treadmill[:, 2]), np.log(treadmill[:, 3]), 1)
    assert -steep >= RiskConfig().forefoot_effort_exponent


def test_effort_explains_the_rise_of_peaks_with_speed(treadmill: np.ndarray) -> None:
    level = treadmill[treadmill[:, 1] == 0]
    slow = level[level[:, 0] == 2.5][0]
    fast = level[level[:, 0] == 4.17][0]
    raw = fast[3] / slow[3]
    expected = (fast[2] / slow[2]) ** -RiskConfig().forefoot_effort_exponent
    assert raw > 1.1  # peaks rise >10% from 2.5 to 4.17 m/s ...
    assert raw / expected == pytest.approx(1.0, abs=0.03)  # ... and effort accounts for it


def test_every_real_run_counts_as_running(treadmill: np.ndarray) -> None:
    assert (treadmill[:, 2] < RiskConfig().running_max_duty).all()
