"""The CSV export's shared grid and row writer, against the row-by-row model they replace:
the same rows (a later sample on a grid index wins, samples behind the written rows are
dropped) and the same text as `np.savetxt` with the row format."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.io.interchange import InterchangeWriter, column_name
from numbguard.pads import FOOT_IDS
from numbguard.session.export import MAX_FOOT_LAG_S, shared_grid_rows
from numbguard.types import FloatArray, PressureChunk

RATE_HZ = 100.0


def model_rows(
    chunks: Iterable[PressureChunk],
) -> Iterator[tuple[FloatArray, dict[str, FloatArray]]]:
    """The grid as a dict of rows per foot, row by row (the former implementation)."""
    grids: dict[str, tuple[tuple[str, ...], dict[int, FloatArray], list[int]]] = {}
    next_index = 0

    def ready_until() -> int:
        newest = [grids[foot][2][0] if foot in grids else -1 for foot in FOOT_IDS]
        return max(min(newest), max(newest) - round(MAX_FOOT_LAG_S * RATE_HZ)) + 1

    def take(until: int) -> tuple[FloatArray, dict[str, FloatArray]]:
        indexes = np.arange(next_index, until)
        columns: dict[str, FloatArray] = {}
        for foot, (pads, rows, _) in grids.items():
            block = np.full((len(indexes), len(pads)), np.nan)
            for row, index in enumerate(indexes):
                values = rows.pop(int(index), None)
                if values is not None:
                    block[row] = values
            for pad_index, pad in enumerate(pads):
                columns[column_name(foot, pad)] = block[:, pad_index]  # type: ignore[arg-type]
        return indexes / RATE_HZ, columns

    for chunk in chunks:
        pads, rows, newest = grids.setdefault(chunk.foot, (tuple(chunk.pressure_kpa), {}, [-1]))
        indexes = np.rint(chunk.t_s * RATE_HZ).astype(np.int64)
        values = np.column_stack([chunk.pressure_kpa[pad] for pad in pads])
        for index, row in zip(indexes, values, strict=True):
            if index >= next_index:
                rows[int(index)] = row
        newest[0] = max(newest[0], int(indexes.max(initial=-1)))
        until = ready_until()
        if until > next_index:
            yield take(until)
            next_index = until
    if grids:
        until = max(newest[0] for _, _, newest in grids.values()) + 1
        if until > next_index:
            yield take(until)


_CHUNK = st.tuples(
    st.sampled_from(FOOT_IDS),
    st.floats(-0.5, 40.0),  # start, s
    st.integers(1, 60),  # samples
    st.sampled_from([0.01, 0.0049, 0.013, 0.5]),  # step, s: a finer step puts two on one index
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CHUNK, min_size=1, max_size=8), st.integers(0, 2**16))
def test_the_grid_gives_the_row_by_row_rows(
    shapes: list[tuple[str, float, int, float]], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    chunks = []
    for foot, start_s, n, step_s in shapes:
        t_s = start_s + step_s * np.arange(n)
        pressure = {pad: rng.uniform(0, 400, n).round(2) for pad in ("heel", "ball_center")}
        pressure["heel"][rng.random(n) < 0.2] = np.nan
        chunks.append(PressureChunk(foot, t_s, pressure, RATE_HZ))  # type: ignore[arg-type]
    got = [(t, {k: v.tolist() for k, v in c.items()}) for t, c in shared_grid_rows(chunks)]
    want = [(t, {k: v.tolist() for k, v in c.items()}) for t, c in model_rows(chunks)]
    assert len(got) == len(want)
    for (t_got, c_got), (t_want, c_want) in zip(got, want, strict=True):
        np.testing.assert_array_equal(t_got, t_want)
        assert repr(c_got) == repr(c_want)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.just(float("nan"))),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=50,
    )
)
def test_rows_are_written_as_savetxt_writes_them(cells: list[list[float]]) -> None:
    out = io.StringIO()
    writer = InterchangeWriter(out, ["left.heel", "right.heel"], sample_rate_hz=RATE_HZ)
    start = out.tell()
    t_s = np.arange(len(cells)) / RATE_HZ
    values = np.array(cells)
    writer.write_rows(t_s, {"left.heel": values[:, 0], "right.heel": values[:, 1]})
    expected = io.StringIO()
    np.savetxt(expected, np.column_stack([t_s, values]), fmt="%.9g,%.6g,%.6g", delimiter=",")
    assert out.getvalue()[start:] == expected.getvalue().replace("nan", "")
