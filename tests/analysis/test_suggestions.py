"""Messages and suggestions: from the brief's remedy list, ranked, never a diagnosis."""

from __future__ import annotations

import re

import pytest

from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.analysis.suggestions import SUGGESTIONS, raise_message, suggestions_for
from numbguard.simulate import SCENARIO_NAMES, SessionSimulator, build_scenario

FORBIDDEN = re.compile(r"neuroma|neuritis|diagnos|neuropath|syndrome|disease|you have", re.I)


def test_no_diagnosis_language_in_any_suggestion_or_message_template() -> None:
    for kind, suggestions in SUGGESTIONS.items():
        assert suggestions, kind
        for text in suggestions:
            assert not FORBIDDEN.search(text), text
        for severity in ("info", "warning", "alert"):
            assert not FORBIDDEN.search(raise_message(kind, "left", severity, ("ball_center",)))


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_no_diagnosis_language_in_the_alerts_of_any_scenario(name: str) -> None:
    analyzer = SessionAnalyzer()
    for chunk in SessionSimulator(build_scenario(name, 150.0), seed=2).chunks(10.0):
        analyzer.feed(chunk)
    for alert in analyzer.finish().alerts:
        assert not FORBIDDEN.search(alert.message)
        assert "\n" not in alert.message
        for text in alert.suggestions:
            assert not FORBIDDEN.search(text)


def test_suggestions_are_ranked_for_the_pattern() -> None:
    assert suggestions_for("tight_lacing", ("lace_upper",))[0].startswith("Loosen the laces")
    assert suggestions_for("tight_lacing", ("lace_lower",))[1] == "Loosen the forefoot lacing."
    assert "cadence" in suggestions_for("forefoot_overload", ("ball_center",))[0]
    assert "toe box" in " ".join(suggestions_for("metatarsal_hotspot", ("ball_lateral",)))
    assert suggestions_for("unrelieved_pressure", ())[0] == "Change your foot position."
    assert suggestions_for("no_such_kind", ()) == ()


TOE_BOX = "Try a shoe with a wider toe box, often a half or full size larger than street shoes."


@pytest.mark.parametrize(
    ("pads", "first"),
    [
        (("ball_lateral",), TOE_BOX),
        (("ball_medial",), "Loosen the forefoot lacing."),
        (("ball_center",), "Loosen the forefoot lacing."),
    ],
)
def test_hotspot_advice_depends_on_the_concentrating_pad(pads: tuple[str, ...], first: str) -> None:
    ranked = suggestions_for("metatarsal_hotspot", pads)
    assert ranked[0] == first
    # The same remedies of the brief, only ranked for the pad.
    assert sorted(ranked) == sorted(SUGGESTIONS["metatarsal_hotspot"])


def test_a_lateral_hotspot_alert_leads_with_the_toe_box() -> None:
    analyzer = SessionAnalyzer()
    for chunk in SessionSimulator(build_scenario("metatarsal_hotspot", 240.0), seed=0).chunks(10.0):
        analyzer.feed(chunk)
    hotspots = [a for a in analyzer.finish().alerts if a.kind == "metatarsal_hotspot"]
    assert hotspots
    assert all(a.pads == ("ball_lateral",) for a in hotspots)
    assert all(a.suggestions[0] == TOE_BOX for a in hotspots)


def test_message_is_one_line_naming_foot_and_pads() -> None:
    text = raise_message("tight_lacing", "right", "alert", ("lace_upper",))
    expected = "Act now: right foot, lace upper: sustained lace pressure on the top of the foot."
    assert text == expected
