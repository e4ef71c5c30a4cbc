"""No risk alert on real walking recordings (the dev records of ../shared/realdata).

These are normal walks (and walks of people with gait disorders) recorded by others: a
numbness-risk alert on any of them would be a false alert. Without the data they fail, saying
where it goes (tests/realdata.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.evaluate.runner import analyze_file
from numbguard.types import PressureChunk
from numbguard_lab.validation.physionet import read_gaitndd, read_gaitpdb
from tests.realdata import need, record_id, records


def analyse(chunks: Iterable[PressureChunk]) -> SessionResult:
    analyzer = SessionAnalyzer(keep_contacts=False)
    for chunk in chunks:
        analyzer.feed(chunk)
    return analyzer.finish()


def assert_quiet_walk(result: SessionResult) -> None:
    assert [(a.t_s, a.foot, a.kind, a.evidence) for a in result.alerts] == []
    assert result.cadence_spm is not None and 50 <= result.cadence_spm <= 140  # walking, some slow


@pytest.mark.parametrize("header", records("gaitndd/dev/*.hea"), ids=record_id)
def test_no_alert_on_gaitndd_dev_walks(header: Path | None) -> None:
    header = need(header, "gaitndd/dev/*.hea")
    result = analyse(read_gaitndd(header.with_suffix("")))
    assert_quiet_walk(result)
    # One whole-sole sensor: the rules that need forefoot or lace pads say so.
    assert "tight_lacing" in result.feet["left"].cannot_assess


@pytest.mark.parametrize("path", records("gaitpdb/*_*.txt"), ids=record_id)
def test_no_alert_on_gaitpdb_walks(path: Path | None) -> None:
    path = need(path, "gaitpdb/*_*.txt")
    result = analyse(read_gaitpdb(path))
    assert_quiet_walk(result)
    assert result.feet["left"].active_s > 0  # the forefoot rules did run


@pytest.mark.parametrize("path", records("moticon_opengo/*.txt"), ids=record_id)
def test_no_alert_on_moticon_walks(path: Path | None) -> None:
    path = need(path, "moticon_opengo/*.txt")
    result = analyze_file(path)
    assert_quiet_walk(result)
    assert result.feet["left"].active_s > 0  # the forefoot rules did run
