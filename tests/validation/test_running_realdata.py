"""Contact detection on real treadmill running (../shared/realdata/running/alcantara2022).

Each of the 31 trials (2.5-4.17 m/s, -10 to +10 degrees, rearfoot and midfoot strikes) is
read per foot as an insole at 100 Hz would read it, at each of the five sampling phases, and
scored against contacts where the 500 Hz belt force exceeds 50 N. Targets (issue 11): every
contact found (recall and precision >= 0.98), median onset within 8 ms, and the median contact
time within 5% of the reference, on every trial. The table is docs/validation.md
(benchmarks/validation_table.py writes it).
"""

from __future__ import annotations

import numpy as np
import pytest

from numbguard_lab.validation.running import RunningRow, is_tuning, running_rows
from numbguard_lab.validation.treadmill import read_trials
from tests.realdata import realdata_dir

ONSET_S = 0.008
CONTACT_ERROR = 0.05


@pytest.fixture(scope="module")
def rows() -> list[RunningRow]:
    return running_rows(realdata_dir())  # fails, saying where the data goes, when absent


def _label(row: RunningRow) -> str:
    t = row.trial
    return f"trial {t.index} ({t.speed_m_s} m/s, {t.slope_deg:+g} deg, {t.strike})"


def test_the_trials_cover_speeds_slopes_and_strikes() -> None:
    trials = read_trials(realdata_dir() / "running" / "alcantara2022")
    assert len(trials) == 31
    assert {t.speed_m_s for t in trials} == {2.5, 3.33, 4.17}
    assert {t.slope_deg for t in trials} == {-10.0, -5.0, 0.0, 5.0, 10.0}
    assert {t.strike for t in trials} == {"rearfoot", "midfoot"}
    assert sum(is_tuning(t) for t in trials) == 16
    assert all(len(t.force_bw) / 500.0 > 4.5 for t in trials)


def test_every_contact_is_found_on_time_with_its_contact_time(rows: list[RunningRow]) -> None:
    failures = []
    for row in rows:
        if row.recall < 0.98 or row.precision < 0.98:
            failures.append(f"{_label(row)}: recall {row.recall:.3f}, precision "
                            f"{row.precision:.3f}")  # fmt: skip
        onset_s = float(np.median(row.onset_error_s))
        if abs(onset_s) > ONSET_S:
            failures.append(f"{_label(row)}: median onset off by {onset_s * 1000:+.1f} ms")
        if not abs(row.contact_error) <= CONTACT_ERROR:
            failures.append(f"{_label(row)}: median contact time off by {row.contact_error:+.1%}")
    assert not failures, "\n".join(failures)
    assert all(row.n_reference >= 50 for row in rows)


def test_contact_times_are_unbiased_over_the_trials(rows: list[RunningRow]) -> None:
    # Over all trials the end is no more than 3 ms from the reference's: the contact is
    # neither cut short at push-off nor stretched into the flight.
    ends = np.concatenate([row.end_error_s for row in rows])
    assert abs(float(np.median(ends))) <= 0.003
    assert abs(float(np.median([row.contact_error for row in rows]))) <= 0.02
