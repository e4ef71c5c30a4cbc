"""The reader of the treadmill running force, its split between the feet and its reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.errors import InputError
from numbguard_lab.validation.treadmill import (
    FORCE_RATE_HZ,
    GRAVITY_M_S2,
    KPA_PER_BW,
    TreadmillTrial,
    foot_reference_contacts,
    foot_signals,
    insole_chunks,
    parse_force_rows,
    parse_trial_info,
    reference_contacts,
)

MASS_KG = 70.0
INFO_HEADER = "Sub,Condition,Sex,Age,Height,Mass,RFS,MFS,FFS,Speed,Slope,StepFreq"


def running_force(n_contacts: int = 8, contact_s: float = 0.24, flight_s: float = 0.1) -> (
    tuple[np.ndarray, list[tuple[float, float]]]):  # fmt: skip
    """Half-sine contacts of 2.5 BW with flights between, from a flight; their true spans."""
    t_s = np.arange(round((n_contacts * (contact_s + flight_s) + flight_s) * FORCE_RATE_HZ))
    t_s = t_s / FORCE_RATE_HZ
    force = np.zeros_like(t_s)
    spans = []
    for k in range(n_contacts):
        on = flight_s + k * (contact_s + flight_s)
        inside = (t_s >= on) & (t_s <= on + contact_s)
        force[inside] = 2.5 * np.sin(np.pi * (t_s[inside] - on) / contact_s)
        spans.append((on, on + contact_s))
    return force, spans


def trial(force: np.ndarray) -> TreadmillTrial:
    return TreadmillTrial(0, 3.33, 0.0, MASS_KG, 100.0, 0.0, 0.0, force)


def test_force_rows_and_trial_info_parse() -> None:
    rows = parse_force_rows("1.0,2.0,3.5\n\n-0.01,0.0\n")
    assert [row.tolist() for row in rows] == [[1.0, 2.0, 3.5], [-0.01, 0.0]]
    info = parse_trial_info(f"{INFO_HEADER}\n2,NA,m,NA,173,76.8,40,60,0,3.33,10,NA\n")
    assert info == [
        {"Mass": 76.8, "RFS": 40.0, "MFS": 60.0, "FFS": 0.0, "Speed": 3.33, "Slope": 10.0}
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [("1.0,x\n", "not a number"), ("1.0\n", "bad force row"), ("", "no trials"),
     ("1.0,nan\n", "bad force row")],
)  # fmt: skip
def test_bad_force_rows_say_what_was_expected(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        parse_force_rows(text)


def test_bad_trial_info_says_what_was_expected() -> None:
    with pytest.raises(InputError, match="missing columns"):
        parse_trial_info("Sub,Mass\n2,70\n")
    with pytest.raises(InputError, match="not a number"):
        parse_trial_info(f"{INFO_HEADER}\n2,NA,m,NA,173,heavy,0,100,0,2.5,10,NA\n")
    with pytest.raises(InputError, match="positive mass"):
        parse_trial_info(f"{INFO_HEADER}\n2,NA,m,NA,173,0,0,100,0,2.5,10,NA\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.,-eE\nnaNx ", max_size=200))
def test_any_force_text_parses_or_says_why(text: str) -> None:
    try:
        rows = parse_force_rows(text)
    except InputError:
        return
    assert rows and all(len(row) >= 2 and np.all(np.isfinite(row)) for row in rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="0123456789.-eNA", max_size=6), min_size=12,
                         max_size=12), max_size=4))  # fmt: skip
def test_any_trial_info_parses_or_says_why(cells: list[list[str]]) -> None:
    text = "\n".join([INFO_HEADER, *(",".join(row) for row in cells)])
    try:
        rows = parse_trial_info(text)
    except InputError:
        return
    assert len(rows) == len(cells) and all(row["Mass"] > 0 for row in rows)


def test_reference_contacts_are_the_threshold_crossings() -> None:
    force, spans = running_force()
    level_bw = 50.0 / (MASS_KG * GRAVITY_M_S2)
    offset_s = np.arcsin(level_bw / 2.5) / np.pi * 0.24  # where a half sine reaches 50 N
    found = reference_contacts(force, MASS_KG)
    assert len(found) == len(spans)
    for (on, off), (true_on, true_off) in zip(found, spans, strict=True):
        assert on == pytest.approx(true_on + offset_s, abs=2e-4)
        assert off == pytest.approx(true_off - offset_s, abs=2e-4)
    # A contact cut by the start or the end of the trial is not a reference.
    assert len(reference_contacts(force[60:-60], MASS_KG)) == len(spans) - 2


def test_contacts_alternate_between_the_feet() -> None:
    force, spans = running_force()
    signals = foot_signals(trial(force))
    t_s = np.arange(len(force)) / FORCE_RATE_HZ
    for parity, foot in enumerate(("left", "right")):
        for k, (on, off) in enumerate(spans):
            inside = (t_s > on + 0.01) & (t_s < off - 0.01)
            expected = force[inside] if k % 2 == parity else 0.0
            assert np.allclose(signals[foot][inside], expected), (foot, k)
    references = foot_reference_contacts(trial(force))
    assert [len(references[foot]) for foot in ("left", "right")] == [4, 4]


def test_insole_chunks_sample_at_the_insole_rate_in_kpa() -> None:
    force, _ = running_force()
    chunks = insole_chunks(trial(force), phase=2)
    assert [chunk.foot for chunk in chunks] == ["left", "right"]
    left = chunks[0]
    assert left.sample_rate_hz == 100.0
    assert np.allclose(np.diff(left.t_s), 0.01) and left.t_s[0] == pytest.approx(2 / 500)
    signal = foot_signals(trial(force))["left"][2::5]
    assert np.allclose(left.pressure_kpa["heel"], signal * KPA_PER_BW)
    with pytest.raises(InputError, match="rate dividing"):
        insole_chunks(trial(force), rate_hz=300.0)
    with pytest.raises(InputError, match="phase"):
        insole_chunks(trial(force), phase=5)
