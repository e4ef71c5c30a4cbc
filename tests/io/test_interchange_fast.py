"""The interchange reader's fast path (pyarrow's CSV reader per block) against its line-by-line
path: the same rows from good files, the same error (what was expected, what came, which
line and column) from bad ones, fuzzed with cells made of the characters numbers are made of.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numbguard.errors import InputError
from numbguard.io.interchange import InterchangeReader, write_interchange
from numbguard.simulate import SessionSimulator, build_scenario
from numbguard.types import FloatArray, PressureChunk


class LineByLineReader(InterchangeReader):
    """The reader with its fast path turned off: every block parsed line by line."""

    def _parse_fast(self, block: bytes) -> FloatArray | None:
        return None


def _read(reader_type: type[InterchangeReader], text: str, chunk_s: float = 1.0) -> object:
    """The chunks as plain arrays, or the error's text."""
    try:
        reader = reader_type(io.BytesIO(text.encode()), chunk_s=chunk_s, name="s.csv")
        chunks: list[PressureChunk] = list(reader)
    except InputError as error:
        return str(error)
    return [
        (c.foot, c.t_s.tolist(), {pad: v.tolist() for pad, v in c.pressure_kpa.items()})
        for c in chunks
    ]


def _same(fast: object, slow: object) -> bool:
    if isinstance(fast, str) or isinstance(slow, str):
        return fast == slow
    return bool(np.array_equal(np.array(fast, dtype=object), np.array(slow, dtype=object))) or (
        repr(fast) == repr(slow)  # NaN != NaN: compare the lists' text
    )


def test_a_simulated_session_reads_alike_on_both_paths(tmp_path: pytest.TempPathFactory) -> None:
    buffer = io.StringIO()
    chunks = SessionSimulator(build_scenario("crossing_stops", 120.0), seed=1).chunks(10.0)
    write_interchange(buffer, chunks)
    text = buffer.getvalue()
    fast, slow = _read(InterchangeReader, text, 7.0), _read(LineByLineReader, text, 7.0)
    assert isinstance(fast, list) and len(fast) > 10
    assert repr(fast) == repr(slow)


_CELL = st.one_of(
    st.just(""),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:g}"),
    st.integers(-1000, 10**6).map(str),
    st.text(alphabet="0123456789+-.eE ", min_size=1, max_size=6),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_CELL, min_size=2, max_size=4), min_size=1, max_size=12),
    increasing=st.booleans(),
)
def test_both_paths_accept_the_same_rows_and_name_the_same_error(
    rows: list[list[str]], increasing: bool
) -> None:
    lines = ["# sample_rate_hz=100", "time_s,left.heel,left.ball_center,right.heel"]
    for number, cells in enumerate(rows):
        if increasing:
            cells = [f"{number / 100:g}", *cells[1:]]
        lines.append(",".join(cells))
    text = "\n".join(lines) + "\n"
    fast, slow = _read(InterchangeReader, text), _read(LineByLineReader, text)
    assert _same(fast, slow), (text, fast, slow)


def test_a_bad_cell_deep_in_a_long_file_is_named_by_line_and_column() -> None:
    rows = [f"{k / 100:.2f},{k % 50}.5,,{k % 7}" for k in range(100_000)]
    rows[81_234] = rows[81_234].replace(",,", ",1.2.3,")
    text = "time_s,left.heel,left.ball_center,right.heel\n" + "\n".join(rows) + "\n"
    with pytest.raises(InputError) as caught:
        list(InterchangeReader(io.BytesIO(text.encode()), chunk_s=60.0, name="s.csv"))
    message = str(caught.value)
    assert "line 81236" in message and "left.ball_center" in message and "'1.2.3'" in message
