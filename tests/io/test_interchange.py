"""The CSV interchange reader and writer: round trips, rate inference, errors naming the place."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numbguard.errors import BadFile, InputError, UnreadableFile
from numbguard.io.interchange import (
    InterchangeReader,
    InterchangeWriter,
    read_interchange,
    write_interchange,
)
from numbguard.types import PressureChunk


def sample_chunks(n: int = 1000, rate_hz: float = 100.0, seed: int = 0) -> list[PressureChunk]:
    rng = np.random.default_rng(seed)
    t_s = np.arange(n) / rate_hz
    left = {"heel": rng.uniform(0, 300, n).round(3), "lace_upper": rng.uniform(0, 30, n).round(3)}
    left["heel"][rng.random(n) < 0.1] = np.nan
    right = {"ball_center": rng.uniform(0, 500, n).round(3)}
    return [PressureChunk("left", t_s, left, rate_hz), PressureChunk("right", t_s, right, rate_hz)]


def read_all(source: str | Path, chunk_s: float = 10.0) -> list[PressureChunk]:
    return list(
        read_interchange(
            io.StringIO(source) if isinstance(source, str) else source, chunk_s=chunk_s
        )
    )


def joined(chunks: list[PressureChunk], foot: str, pad: str) -> np.ndarray:
    return np.concatenate([c.pressure_kpa[pad] for c in chunks if c.foot == foot])


def test_round_trip_keeps_values_missing_cells_and_metadata(tmp_path: Path) -> None:
    original = sample_chunks()
    path = tmp_path / "session.csv"
    write_interchange(path, original, metadata={"subject": "s1"})
    text = path.read_text()
    assert text.startswith("# sample_rate_hz=100\n# subject=s1\n")
    assert text.splitlines()[2] == "time_s,left.heel,left.lace_upper,right.ball_center"
    reader = read_interchange(path, chunk_s=3.0)
    assert reader.metadata == {"sample_rate_hz": "100", "subject": "s1"}
    assert reader.pads == {"left": ("heel", "lace_upper"), "right": ("ball_center",)}
    chunks = list(reader)
    # 3 s chunks of 300 rows, one per foot, left first, the last one shorter.
    assert [len(c.t_s) for c in chunks] == [300, 300, 300, 300, 300, 300, 100, 100]
    assert [c.foot for c in chunks[:2]] == ["left", "right"]
    for foot, pad in (("left", "heel"), ("left", "lace_upper"), ("right", "ball_center")):
        expected = next(c for c in original if c.foot == foot).pressure_kpa[pad]
        np.testing.assert_array_equal(joined(chunks, foot, pad), expected)
    np.testing.assert_allclose(
        np.concatenate([c.t_s for c in chunks if c.foot == "left"]),
        original[0].t_s,
        rtol=0,
        atol=1e-9,
    )


def test_sample_rate_is_inferred_from_time_without_a_comment() -> None:
    rows = "\n".join(f"{i * 0.004:.3f},{i}" for i in range(50))
    reader = InterchangeReader(io.StringIO("time_s,right.heel\n" + rows + "\n"), chunk_s=0.1)
    assert reader.sample_rate_hz == pytest.approx(250.0)
    chunks = list(reader)
    assert [len(c.t_s) for c in chunks] == [25, 25]
    assert all(c.sample_rate_hz == reader.sample_rate_hz for c in chunks)


def test_blank_lines_crlf_spaces_and_a_missing_final_newline_are_accepted() -> None:
    text = (
        "# sample_rate_hz=10\r\n# a free comment\r\ntime_s, left.heel\r\n"
        "0.0, 1\r\n\r\n0.1,  \r\n0.2,3"
    )
    chunks = read_all(text)
    np.testing.assert_array_equal(chunks[0].t_s, [0.0, 0.1, 0.2])
    np.testing.assert_array_equal(chunks[0].pressure_kpa["heel"], [1.0, np.nan, 3.0])


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftime_s,left.heel\r\n0,1\r\n0.01,2\r\n".encode())
    chunks = list(read_interchange(path))
    np.testing.assert_array_equal(chunks[0].pressure_kpa["heel"], [1.0, 2.0])


def test_header_only_file_yields_nothing() -> None:
    assert read_all("# sample_rate_hz=100\ntime_s,left.heel\n") == []


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("time_s,left.toe\n0,1\n", "unknown column", "line 1, column 2"),
        ("time_s,middle.heel\n0,1\n", "unknown column", "line 1, column 2"),
        ("t,left.heel\n0,1\n", "bad header", "line 1, column 1"),
        ("time_s,left.heel,left.heel\n", "duplicate column", "line 1, column 3"),
        ("time_s\n0\n", "no pad columns", "line 1"),
        ("# note\n", "no header", ""),
        ("time_s,left.heel\n0,1\n0.01,abc\n", "not a number", "line 3, column 2 (left.heel)"),
        ("time_s,left.heel\n0,1\n0.01,nan\n", "not a number", "line 3, column 2 (left.heel)"),
        ("time_s,left.heel\n0,1\n0.01,1e999\n", "not a number", "line 3, column 2 (left.heel)"),
        ("time_s,left.heel\n0,1\n,2\n", "not a number", "line 3, column 1 (time_s)"),
        ("time_s,left.heel\n0,1\n0.01,2\n0.005,3\n", "time does not increase", "line 4, column 1"),
        ("time_s,left.heel\n0,1\n0,2\n", "time does not increase", "line 3, column 1"),
        ("time_s,left.heel\n0,1,2\n", "wrong number of cells", "line 2"),
        ("# sample_rate_hz=fast\ntime_s,left.heel\n", "bad sample rate", "sample_rate_hz"),
        ("time_s,left.heel\n0,1\n", "cannot infer the sample rate", ""),
        ("time_s,left.heel\n0,1\n0.01,\xe9\n", "not a number", "line 3, column 2"),
    ],
)
def test_bad_files_name_the_line_and_column(text: str, message: str, where: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_all(text)
    assert caught.value.where.startswith("<stream>")
    assert where in caught.value.where


def test_bytes_that_are_not_utf8_are_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"time_s,left.heel\n0,1\n0.01,\xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8") as caught:
        list(read_interchange(path))
    assert caught.value.where == f"{path} line 3"


def test_an_error_deep_in_a_large_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    n = 200_000  # several read blocks
    rows = [f"{i / 100:.2f},{i % 300},{i % 7}" for i in range(n)]
    rows[150_000] = rows[150_000].replace(",", ",x", 1)
    path.write_text("# sample_rate_hz=100\ntime_s,left.heel,right.heel\n" + "\n".join(rows) + "\n")
    with pytest.raises(BadFile) as caught:
        list(read_interchange(path, chunk_s=60))
    assert caught.value.where == f"{path} line {150_000 + 3}, column 2 (left.heel)"
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), 150_003, 2)
    # The same file without the error streams whole, in order.
    rows[150_000] = f"{150_000 / 100:.2f},{150_000 % 300},{150_000 % 7}"
    path.write_text("# sample_rate_hz=100\ntime_s,left.heel,right.heel\n" + "\n".join(rows) + "\n")
    chunks = list(read_interchange(path, chunk_s=60))
    heel = joined(chunks, "left", "heel")
    np.testing.assert_array_equal(heel, np.arange(n) % 300)


def test_a_truncated_file_is_a_bad_file_at_its_last_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    whole = "time_s,left.heel,right.heel\n0.00,1,2\n0.01,3,4\n0.02,5,6\n"
    path.write_text(whole[: whole.rindex(",")])  # cut inside the last row
    with pytest.raises(BadFile, match="wrong number of cells") as caught:
        list(read_interchange(path))
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), 4, None)
    assert (caught.value.expected, caught.value.got) == ("3 as in the header", "2")


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot open") as caught:
        read_interchange(tmp_path / "absent.csv")
    assert caught.value.where.endswith("absent.csv")
    assert caught.value.path.endswith("absent.csv") and caught.value.reason


def test_writer_refuses_bad_columns_and_values() -> None:
    with pytest.raises(InputError, match="unknown column"):
        InterchangeWriter(io.StringIO(), ["left.toe"])
    with pytest.raises(InputError, match="bad column list"):
        InterchangeWriter(io.StringIO(), ["left.heel", "left.heel"])
    writer = InterchangeWriter(io.StringIO(), ["left.heel"], sample_rate_hz=100)
    with pytest.raises(InputError, match="missing column"):
        writer.write_rows(np.zeros(1), {})
    with pytest.raises(InputError, match="cannot write"):
        writer.write_rows(np.zeros(1), {"left.heel": np.array([np.inf])})


def test_writer_writes_rows_in_column_order() -> None:
    out = io.StringIO()
    with InterchangeWriter(out, ["right.heel", "left.heel"], metadata={"k": "v"}) as writer:
        writer.write_rows(
            np.array([0.0, 0.5]),
            {"left.heel": np.array([1.5, np.nan]), "right.heel": np.array([2.0, 3.25])},
        )
    assert out.getvalue() == "# k=v\ntime_s,right.heel,left.heel\n0,2,1.5\n0.5,3.25,\n"


_ALPHABET = st.sampled_from(list("0123456789.,-+eE#=\n\r nabtime_sleftrighheel"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=300) | st.text(max_size=200))
def test_arbitrary_text_raises_only_input_errors(body: str) -> None:
    for prefix in (
        "",
        "time_s,left.heel,right.ball_center\n",
        "# sample_rate_hz=100\ntime_s,left.heel\n",
    ):
        with contextlib.suppress(InputError):
            read_all(prefix + body, chunk_s=0.05)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 3)),
            st.none() | st.floats(0, 1000).map(lambda v: round(v, 2)),
        ),
        min_size=2,
        max_size=60,
    ),
    st.sampled_from([0.01, 0.07, 1.0]),
)
def test_valid_tables_read_back_exactly(
    rows: list[tuple[float, float | None]], chunk_s: float
) -> None:
    t_s = np.arange(len(rows)) * 0.01
    values = np.array([np.nan if right is None else right for _, right in rows])
    left = np.array([left for left, _ in rows])
    out = io.StringIO()
    InterchangeWriter(out, ["left.ball_medial", "right.lace_lower"], sample_rate_hz=100).write_rows(
        t_s, {"left.ball_medial": left, "right.lace_lower": values}
    )
    chunks = read_all(out.getvalue(), chunk_s=chunk_s)
    np.testing.assert_array_equal(joined(chunks, "left", "ball_medial"), left)
    np.testing.assert_array_equal(joined(chunks, "right", "lace_lower"), values)
