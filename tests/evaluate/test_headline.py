"""The headline figures of `numbguard evaluate`, the labels file they rest on, and the run over
a folder of field sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.errors import InputError
from numbguard.evaluate.runner import evaluate_folder
from numbguard.evaluate.scoring import (
    ScoredSession,
    episodes,
    evaluate_sessions,
    format_headline,
)
from numbguard.simulate.field import CHECK_INSOLE, LOOSEN_LACES
from numbguard.simulate.files import read_labels, write_field_session
from numbguard.simulate.scenarios import Label
from numbguard.types import Alert


def alert(
    t_s: float,
    kind: str = "tight_lacing",
    foot: str = "left",
    severity: str = "warning",
    suggestions: tuple[str, ...] = (LOOSEN_LACES,),
    **evidence: str,
) -> Alert:
    return Alert(
        t_s,
        "left" if foot == "left" else "right",
        kind,
        "alert" if severity == "alert" else "warning",
        (),
        "m",
        suggestions,
        dict(evidence),
    )


LACING = Label("tight_lacing", "left", 100.0, 600.0, LOOSEN_LACES)


def test_episodes_leave_out_escalations_and_clearing_events() -> None:
    events = [
        alert(50.0),
        alert(80.0, severity="alert"),  # escalation
        alert(200.0, state="cleared"),
        alert(600.0),  # a new episode
        alert(610.0, foot="right"),  # another foot: its own episode
    ]
    assert [(a.t_s, a.foot) for a in episodes(events)] == [
        (50.0, "left"),
        (600.0, "left"),
        (610.0, "right"),
    ]


def test_caught_within_60_s_counts_the_delay_to_the_first_matching_alert() -> None:
    on_time = ScoredSession("a", 600.0, (LACING,), (alert(150.0),))
    late = ScoredSession("b", 600.0, (LACING,), (alert(161.0),))
    missed = ScoredSession("c", 600.0, (LACING,), (alert(150.0, foot="right"),))
    headline = evaluate_sessions([on_time, late, missed]).to_json()["headline"]
    assert headline["caught_within_60_s"] == {"n": 1, "of": 3}
    delays = [label["delay_s"] for label in headline["labels"]]
    assert delays == [50.0, 61.0, None]
    # Advice counts only when the condition was detected and the alert leads with it.
    assert headline["right_advice"] == {"n": 2, "of": 3}


def test_right_advice_is_the_first_suggestion_of_the_detecting_alert() -> None:
    fault = Label("sensor_fault", "right", 100.0, 600.0, CHECK_INSOLE)
    wrong = alert(110.0, "sensor_fault", "right", suggestions=("Re-zero.", CHECK_INSOLE))
    right = alert(110.0, "sensor_fault", "right", suggestions=(CHECK_INSOLE,))
    no_advice = Label("sensor_fault", "left", 100.0, 600.0)
    sessions = [
        ScoredSession("wrong", 600.0, (fault,), (wrong,)),
        ScoredSession("right", 600.0, (fault,), (right,)),
        ScoredSession("any", 600.0, (no_advice,), (alert(120.0, "sensor_fault"),)),
    ]
    evaluation = evaluate_sessions(sessions)
    assert evaluation.to_json()["headline"]["right_advice"] == {"n": 1, "of": 2}
    text = format_headline(evaluation)
    assert "right advice given: 1 of 2" in text
    assert "advice: wrong sensor_fault: 'Re-zero.'" in text


def test_false_alerts_per_hour_count_episodes_in_normal_sessions_only() -> None:
    noisy = ScoredSession(
        "intervals",
        1800.0,
        (),
        (
            alert(300.0, "forefoot_overload"),
            alert(320.0, "forefoot_overload", severity="alert"),  # escalation: not counted
            alert(900.0, "forefoot_overload", "right"),
        ),
    )
    quiet = ScoredSession("hills", 1800.0, (), (alert(400.0, state="cleared"),))
    # A wrong alert in a labelled session is a false alert per kind, not of normal running.
    labelled = ScoredSession("x", 3600.0, (LACING,), (alert(150.0), alert(200.0, "asymmetry")))
    evaluation = evaluate_sessions([noisy, quiet, labelled])
    headline = evaluation.to_json()["headline"]
    assert headline["false_alerts_per_hour_normal"] == 2.0
    assert headline["normal_hours"] == 1.0
    assert headline["normal_sessions_alerted"] == {"n": 1, "of": 2, "names": ["intervals"]}
    assert headline["normal_false_alerts"] == [
        "intervals:left forefoot_overload@300",
        "intervals:right forefoot_overload@900",
    ]
    assert evaluation.to_json()["kinds"]["asymmetry"]["false_alerts"] == 1
    text = format_headline(evaluation)
    assert "false alerts per hour of normal running: 2.00 (2 in 1.00 h)" in text
    assert "normal sessions that raised any alert: 1 of 2" in text


def test_without_normal_sessions_the_rate_is_not_a_number() -> None:
    headline = evaluate_sessions([ScoredSession("x", 600.0, (LACING,), ())]).to_json()["headline"]
    assert headline["false_alerts_per_hour_normal"] is None
    assert headline["caught_within_60_s"] == {"n": 0, "of": 1}


# --- the labels file ---


def test_labels_keep_their_advice_and_old_files_still_read(tmp_path: Path) -> None:
    path = tmp_path / "s.labels.json"
    path.write_text(json.dumps({"labels": [LACING.to_json()]}))
    assert read_labels(path) == (LACING,)
    old = {"kind": "tight_lacing", "foot": "left", "onset_s": 1, "end_s": 2}
    path.write_text(json.dumps({"labels": [old]}))
    assert read_labels(path) == (Label("tight_lacing", "left", 1.0, 2.0),)
    assert "advice" not in read_labels(path)[0].to_json()  # old sidecars stay byte-identical
    path.write_text(json.dumps({"labels": [{**old, "advice": 3}]}))
    with pytest.raises(InputError, match="bad label"):
        read_labels(path)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.integers()
    | st.just(10**400)  # float() overflows
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["kind", "foot", "onset_s", "end_s", "advice", "labels", "x"]), inner
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_labels_file_reads_or_is_an_input_error(data: object) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.labels.json"
        path.write_text(json.dumps(data))
        try:
            labels = read_labels(path)
        except InputError:
            return
        assert all(isinstance(label, Label) for label in labels)


# --- a folder of field sessions ---


@pytest.fixture(scope="module")
def field_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("field")
    for name in ("lace_pad_flat", "tight_lacing_after_warmup", "walk_then_run"):
        write_field_session(name, out, seed=1)
    return out


def test_a_folder_of_field_sessions_is_scored_in_name_order(field_dir: Path) -> None:
    headline = evaluate_folder(field_dir).to_json()["headline"]
    assert headline["caught_within_60_s"]["of"] == 2
    assert headline["normal_sessions_alerted"]["of"] == 1
    assert headline["right_advice"]["of"] == 2
    assert headline["normal_hours"] == pytest.approx(720 / 3600, abs=1e-3)
    sessions = [label["session"] for label in headline["labels"]]
    assert sessions == ["lace_pad_flat", "tight_lacing_after_warmup"]
