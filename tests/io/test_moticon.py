"""Moticon OpenGo text-export import: cell-to-pad mapping, units, missing packets, events."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.errors import InputError
from numbguard.io.moticon import MOTICON_CELLS, read_moticon, read_moticon_events
from tests.realdata import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA / "moticon_opengo"


def _columns() -> list[str]:
    names = ["time"]
    for foot in ("left", "right"):
        names += [f"{foot} pressure {n}[N/cm²]" for n in range(1, 17)]
        names += [f"{foot} total force[N]"]
    return [*names, "right steps[]", "left steps[]"]


def export(path: Path, rows: list[list[str]]) -> Path:
    header = "# Start time: 27.09.2023 10:21:14.922\n# Size: 7\n# " + "\t".join(_columns()) + "\n"
    path.write_text(header + "".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def row(
    t_s: float,
    left: list[float] | None,
    right: list[float] | None,
    steps: tuple[str, str] = ("", ""),
) -> list[str]:
    cells = [f"{t_s:.2f}"]
    for values in (left, right):
        cells += [""] * 17 if values is None else [f"{v:.2f}" for v in values] + ["0"]
    return [*cells, *steps]


def test_cells_map_to_pads_as_mean_pressure_in_kpa(tmp_path: Path) -> None:
    left = [float(n) for n in range(1, 17)]  # cell n reads n N/cm2
    right = [2.0] * 16
    path = export(tmp_path / "walk.txt", [row(i / 100, left, right) for i in range(1, 6)])
    reader = read_moticon(path)
    assert reader.sample_rate_hz == 100.0
    assert reader.metadata["Size"] == "7"
    chunks = list(reader)
    assert [c.foot for c in chunks] == ["left", "right"]
    expected = {pad: 10.0 * np.mean(cells) for pad, cells in MOTICON_CELLS.items()}
    assert {pad: v[0] for pad, v in chunks[0].pressure_kpa.items()} == pytest.approx(expected)
    assert expected["heel"] == 25.0 and expected["ball_medial"] == 90.0
    assert chunks[1].pressure_kpa["ball_lateral"][0] == pytest.approx(20.0)
    np.testing.assert_allclose(chunks[0].t_s, [0.01, 0.02, 0.03, 0.04, 0.05])


def test_dropped_packets_are_missing_samples_and_chunks_stream(tmp_path: Path) -> None:
    rows = [row(i / 100, [1.0] * 16, None if i % 3 == 0 else [1.0] * 16) for i in range(250)]
    chunks = list(read_moticon(export(tmp_path / "w.txt", rows), chunk_s=1.0))
    assert [len(c.t_s) for c in chunks] == [100, 100, 100, 100, 50, 50]
    right = np.concatenate([c.pressure_kpa["heel"] for c in chunks if c.foot == "right"])
    assert np.isnan(right[::3]).all() and not np.isnan(right[1::3]).any()


def test_step_events_are_read(tmp_path: Path) -> None:
    rows = [row(i / 100, [1.0] * 16, [1.0] * 16) for i in range(100)]
    rows[10][-1] = "11.00"
    rows[40][-1] = "15.00"
    rows[60][-2] = "21.00"
    events = read_moticon_events(export(tmp_path / "e.txt", rows))
    assert events.heel_strike_s["left"].tolist() == [0.1]
    assert events.toe_off_s["left"].tolist() == [0.4]
    assert events.heel_strike_s["right"].tolist() == [0.6]


def test_bad_exports_name_the_place(tmp_path: Path) -> None:
    rows = [row(i / 100, [1.0] * 16, [1.0] * 16) for i in range(5)]
    rows[3][3] = "x"
    with pytest.raises(InputError, match="not a number") as caught:
        list(read_moticon(export(tmp_path / "a.txt", rows)))
    assert caught.value.where.endswith("line 7, column 4 (left pressure 3[N/cm²])")
    rows[3][3] = "inf"
    with pytest.raises(InputError, match="not a number"):
        list(read_moticon(export(tmp_path / "inf.txt", rows)))
    rows[3][3] = "1.0"
    rows[4] = rows[4][:-3]
    with pytest.raises(InputError, match="wrong number of cells"):
        list(read_moticon(export(tmp_path / "b.txt", rows)))
    (tmp_path / "c.txt").write_text("time\tleft\n0\t1\n")
    with pytest.raises(InputError, match="no column line"):
        read_moticon(tmp_path / "c.txt")
    with pytest.raises(InputError, match="cannot open"):
        read_moticon(tmp_path / "absent.txt")


needs_realdata = pytest.mark.usefixtures("realdata")  # fails without the data


@needs_realdata
def test_real_exports_load_in_plausible_kpa() -> None:
    for path in sorted(REALDATA.glob("2309*.txt")):
        chunks = list(read_moticon(path))
        for pad in MOTICON_CELLS:
            values = np.concatenate([c.pressure_kpa[pad] for c in chunks])
            # Walking: every pad loads to tens of kPa at least, nothing beyond 1 MPa.
            assert 50 < np.nanmax(values) < 1000, (path.name, pad)
        assert np.isnan(np.concatenate([c.pressure_kpa["heel"] for c in chunks])).any()


_CELL = st.sampled_from(["", "0", "1.5", "-2", "11.00", "15.00", "21.00", "x", "nan", "1e9", " "])
_ROWS = st.lists(st.lists(_CELL, min_size=len(_columns()), max_size=len(_columns())), max_size=8)


@settings(max_examples=80, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789.-\t\n xé#")), max_size=400)
    | _ROWS.map(lambda rows: "".join("\t".join(r) + "\n" for r in rows))
)
def test_arbitrary_rows_raise_only_input_errors(body: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = export(Path(folder) / "fuzz.txt", [])
        path.write_text(path.read_text(encoding="utf-8") + body, encoding="utf-8")
        with contextlib.suppress(InputError):
            list(read_moticon(path, chunk_s=0.05))
        with contextlib.suppress(InputError):
            read_moticon_events(path)
