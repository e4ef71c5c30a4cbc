"""No risk alert on real walking recordings (the dev records of ../shared/realdata).

These are normal walks (and walks of people with gait disorders) recorded by others: a
numbness-risk alert on any of them would be a false alert. Skipped where the data is absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.analysis.types import PressureChunk
from numbguard.evaluate.inputs import analyze_file
from numbguard.io.physionet import read_gaitndd, read_gaitpdb

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
NO_DATA = "shared real data (../shared/realdata) is not present on this machine"


def records(pattern: str) -> list[Path]:
    return sorted(REALDATA.glob(pattern)) if REALDATA.is_dir() else []


def analyse(chunks: Iterable[PressureChunk]) -> SessionResult:
    analyzer = SessionAnalyzer(keep_contacts=False)
    for chunk in chunks:
        analyzer.feed(chunk)
    return analyzer.finish()


def assert_quiet_walk(result: SessionResult) -> None:
    assert [(a.t_s, a.foot, a.kind, a.evidence) for a in result.alerts] == []
    assert result.cadence_spm is not None and 50 <= result.cadence_spm <= 140  # walking, some slow


@pytest.mark.skipif(not records("gaitndd/dev/*.hea"), reason=NO_DATA)
@pytest.mark.parametrize("header", records("gaitndd/dev/*.hea"), ids=lambda p: p.stem)
def test_no_alert_on_gaitndd_dev_walks(header: Path) -> None:
    result = analyse(read_gaitndd(header.with_suffix("")))
    assert_quiet_walk(result)
    # One whole-sole sensor: the rules that need forefoot or lace pads say so.
    assert "tight_lacing" in result.feet["left"].cannot_assess


@pytest.mark.skipif(not records("gaitpdb/*_*.txt"), reason=NO_DATA)
@pytest.mark.parametrize("path", records("gaitpdb/*_*.txt"), ids=lambda p: p.stem)
def test_no_alert_on_gaitpdb_walks(path: Path) -> None:
    result = analyse(read_gaitpdb(path))
    assert_quiet_walk(result)
    assert result.feet["left"].active_s > 0  # the forefoot rules did run


@pytest.mark.skipif(not records("moticon_opengo/*.txt"), reason=NO_DATA)
@pytest.mark.parametrize(
    "path",
    [p for p in records("moticon_opengo/*.txt") if not p.name.startswith("LICENSE")],
    ids=lambda p: p.stem,
)
def test_no_alert_on_moticon_walks(path: Path) -> None:
    result = analyze_file(path)
    assert_quiet_walk(result)
    assert result.feet["left"].active_s > 0  # the forefoot rules did run
