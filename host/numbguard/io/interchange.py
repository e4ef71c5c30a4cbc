"""The CSV interchange format: pad pressures of one or both feet, in kPa, one row per sample.

Form (the tester interface of the analysis)::

    # sample_rate_hz=100          optional `# key=value` lines first
    time_s,left.heel,left.ball_center,right.heel
    0.00,12.5,,3.1                an empty cell is a missing sample (NaN)
    0.01,13.0,40.2,3.0

The header names ``time_s`` and then any subset of ``<foot>.<pad>`` columns, foot ``left`` or
``right``, pad one of `numbguard.pads.PAD_IDS`. Times are seconds and strictly increase. The
sample rate comes from ``# sample_rate_hz=`` or, without it, from the median time step of
the first rows. Every error names the file, line and column.

`InterchangeReader` streams: it reads the file in blocks and yields one `PressureChunk` per
foot and chunk of `chunk_s` seconds, so memory does not grow with the file. Rows are parsed
on a fast path (each block of well-formed lines by pyarrow's C++ CSV reader); a block that
does not parse there is parsed again line by line, which accepts exactly the same rows and
names the first bad cell (`tests/io/test_interchange_fast.py` fuzzes the two against each
other).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from numbguard.errors import BadChunk, BadFile, BadValue, UnreadableFile
from numbguard.io.chunks import chunk_samples, rate_from_times
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot
from numbguard.private_files import open_private_text
from numbguard.types import FloatArray, PressureChunk

TIME_COLUMN: Final = "time_s"
RATE_KEY: Final = "sample_rate_hz"
_BLOCK_BYTES: Final = 1 << 20  # 1 MiB (~14,000 rows of 13 columns): ~10 MB peak to parse
_RATE_PROBE_ROWS: Final = 200
_WRITE_ROWS: Final = 4096  # rows formatted per call when writing
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Bytes a block may hold for the fast path (digits, signs, point, exponent, separators).
_NUMERIC_BYTES: Final = b"0123456789+-.eE, \n"

Source = str | os.PathLike[str] | IO[str] | IO[bytes]


def column_name(foot: Foot, pad: str) -> str:
    """The interchange column of one pad of one foot, e.g. ``left.heel``."""
    return f"{foot}.{pad}"


_COLUMN_FORM: Final = (
    f"{TIME_COLUMN} then <foot>.<pad> with foot left or right and pad one of " + ", ".join(PAD_IDS)
)


def _parse_column(name: str) -> tuple[Foot, str] | None:
    foot, _, pad = name.partition(".")
    for known in FOOT_IDS:
        if foot == known and pad in PAD_IDS:
            return known, pad
    return None


class InterchangeReader:
    """Streaming reader of one interchange CSV file.

    Opening reads the comment lines and the header (and, when the file gives no
    ``sample_rate_hz``, the first rows to infer the rate). Iterating yields chunks in time
    order: for each chunk of rows, one `PressureChunk` per foot present, left first.
    """

    def __init__(self, source: Source, *, chunk_s: float = 10.0, name: str | None = None) -> None:
        self._owned: IO[bytes] | None = None
        if isinstance(source, (str, os.PathLike)):
            self.name = name or str(source)
            try:
                self._owned = open(source, "rb")  # noqa: SIM115 - closed by close()
            except OSError as error:
                raise UnreadableFile(
                    self.name, error.strerror or str(error), expected="a readable CSV file"
                ) from None
            self._file: IO[bytes] | IO[str] = self._owned
        else:
            self.name = name or str(getattr(source, "name", "<stream>"))
            self._file = source
        self._buffer = b""
        self._eof = False
        self._line = 0  # number of the last line taken from the buffer
        self._last_t_s = -np.inf
        self._rows: list[FloatArray] = []  # parsed rows not yet yielded
        self._rows_n = 0
        self.metadata: dict[str, str] = {}
        try:
            self._read_preamble()
            self.sample_rate_hz = self._sample_rate()
            self._chunk_n = (
                chunk_samples(chunk_s, self.sample_rate_hz)
                if np.isfinite(self.sample_rate_hz)
                else 1
            )
        except BaseException:
            self.close()
            raise

    # ---- public -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[PressureChunk]:
        try:
            while True:
                while self._rows_n < self._chunk_n and self._read_rows():
                    pass
                if self._rows_n == 0:
                    return
                rows = np.concatenate(self._rows) if len(self._rows) > 1 else self._rows[0]
                take = min(self._chunk_n, len(rows))
                self._rows = [rows[take:]] if take < len(rows) else []
                self._rows_n = len(rows) - take
                yield from self._chunks(rows[:take])
        finally:
            self.close()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> InterchangeReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- preamble ---------------------------------------------------------------------

    def _read_preamble(self) -> None:
        self._metadata_lines: dict[str, int] = {}  # for the errors that name a comment
        while True:
            raw = self._next_line()
            if raw is None:
                raise BadFile(
                    "no header",
                    expected=f"a header line '{TIME_COLUMN},<foot>.<pad>,...'",
                    got="end of file",
                    path=self.name,
                )
            text = self._decode(raw, self._line).strip().lstrip("\ufeff")  # BOM of some editors
            if not text:
                continue
            if text.startswith("#"):
                key, equals, value = text[1:].partition("=")
                if equals:
                    self.metadata[key.strip()] = value.strip()
                    self._metadata_lines[key.strip()] = self._line
                continue
            break
        names = tuple(cell.strip() for cell in text.split(","))
        self.columns: tuple[str, ...] = names
        if names[0] != TIME_COLUMN:
            raise BadFile(
                "bad header",
                expected=f"first column {TIME_COLUMN!r}",
                got=repr(names[0]),
                path=self.name,
                line=self._line,
                column=1,
            )
        self.pads: dict[Foot, tuple[str, ...]] = {}
        positions: dict[tuple[Foot, str], int] = {}
        for index, name in enumerate(names[1:], start=1):
            parsed = _parse_column(name)
            if parsed is None:
                raise BadFile(
                    "unknown column", expected=_COLUMN_FORM, got=repr(name), path=self.name,
                    line=self._line, column=index + 1,
                )  # fmt: skip
            foot, pad = parsed
            if (foot, pad) in positions:
                raise BadFile(
                    "duplicate column",
                    expected="each column once",
                    got=repr(name),
                    path=self.name,
                    line=self._line,
                    column=index + 1,
                )
            positions[(foot, pad)] = index
        if not positions:
            raise BadFile(
                "no pad columns",
                expected="at least one <foot>.<pad> column",
                got=repr(text),
                path=self.name,
                line=self._line,
            )
        self._foot_columns: dict[Foot, list[int]] = {}
        for foot in FOOT_IDS:
            pads = tuple(pad for pad in PAD_IDS if (foot, pad) in positions)
            if pads:
                self.pads[foot] = pads
                self._foot_columns[foot] = [positions[(foot, pad)] for pad in pads]

    def _sample_rate(self) -> float:
        given = self.metadata.get(RATE_KEY)
        if given is not None:
            try:
                rate = float(given)
            except ValueError:
                rate = float("nan")
            if not (np.isfinite(rate) and rate > 0):
                raise BadFile(
                    "bad sample rate",
                    path=self.name,
                    line=self._metadata_lines.get(RATE_KEY),
                    column=1,
                    column_name=f"comment {RATE_KEY}",
                    expected="a positive number of Hz",
                    got=repr(given),
                )
            return rate
        while self._rows_n < _RATE_PROBE_ROWS and self._read_rows():
            pass
        if self._rows_n == 0:
            return float("nan")
        times = np.concatenate(self._rows)[:_RATE_PROBE_ROWS, 0]
        if len(times) < 2:
            raise BadFile(
                "cannot infer the sample rate from one row",
                expected=f"'# {RATE_KEY}=<Hz>' or two rows or more",
                got="one row",
                path=self.name,
            )
        return rate_from_times(np.asarray(times, dtype=np.float64), self.name)

    # ---- reading ----------------------------------------------------------------------

    def _fill(self) -> bool:
        """Read one more block into the buffer; False at end of file."""
        if self._eof:
            return False
        data = self._file.read(_BLOCK_BYTES)
        block = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        if not block:
            self._eof = True
            if self._buffer and not self._buffer.endswith(b"\n"):
                self._buffer += b"\n"
            return bool(self._buffer)
        self._buffer += block
        return True

    def _next_line(self) -> bytes | None:
        while b"\n" not in self._buffer:
            if not self._fill():
                return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        self._line += 1
        return line.rstrip(b"\r")

    def _decode(self, raw: bytes, line: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadFile(
                "not UTF-8 text",
                expected="a UTF-8 CSV file",
                got=repr(raw[:40]),
                path=self.name,
                line=line,
            ) from None

    def _read_rows(self) -> bool:
        """Parse the next block of whole lines into rows; False when the file is done."""
        if len(self._buffer) < _BLOCK_BYTES:
            self._fill()
        while b"\n" not in self._buffer:
            if not self._fill():
                return False
        cut = self._buffer.rfind(b"\n") + 1
        block, self._buffer = self._buffer[:cut], self._buffer[cut:]
        first_line = self._line + 1
        self._line += block.count(b"\n")
        rows = self._parse_fast(block)
        if rows is None:
            rows = self._parse_lines(block, first_line)
        else:
            self._check_rows(rows, first_line)
        if len(rows):
            self._last_t_s = float(rows[-1, 0])
            self._rows.append(rows)
            self._rows_n += len(rows)
        return True

    def _parse_fast(self, block: bytes) -> FloatArray | None:
        """All rows of a block of well-formed lines at once, or None to take the slow path."""
        if b"\r" in block:
            block = block.replace(b"\r", b"")
        if block.translate(None, _NUMERIC_BYTES) or b"\n\n" in block or block.startswith(b"\n"):
            return None
        width = len(self.columns)
        try:
            table = pa_csv.read_csv(
                pa.py_buffer(block),
                read_options=pa_csv.ReadOptions(
                    column_names=[f"c{i}" for i in range(width)], use_threads=False
                ),
                parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={f"c{i}": pa.float64() for i in range(width)},
                    null_values=[""],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        if table.num_rows != block.count(b"\n"):
            return None
        rows = np.empty((table.num_rows, width), dtype=np.float64)
        for i, column in enumerate(table.columns):
            rows[:, i] = column.to_numpy(zero_copy_only=False)
        if np.isinf(rows).any() or np.isnan(rows[:, 0]).any():
            return None
        return rows

    def _check_rows(self, rows: FloatArray, first_line: int) -> None:
        steps = np.diff(rows[:, 0], prepend=self._last_t_s)
        bad = np.flatnonzero(steps <= 0)
        if len(bad):
            i = int(bad[0])
            before = float(rows[i - 1, 0]) if i else self._last_t_s
            raise BadFile(
                "time does not increase",
                expected=f"a time after {before!r} s",
                got=repr(float(rows[i, 0])),
                path=self.name,
                line=first_line + i,
                column=1,
                column_name=self.columns[0],
            )

    def _parse_lines(self, block: bytes, first_line: int) -> FloatArray:
        width = len(self.columns)
        rows: list[list[float]] = []
        last_t_s = self._last_t_s
        for number, raw in enumerate(block.split(b"\n")[:-1], start=first_line):
            text = self._decode(raw.rstrip(b"\r"), number)
            if not text.strip():
                continue
            cells = text.split(",")
            if len(cells) != width:
                raise BadFile(
                    "wrong number of cells",
                    expected=f"{width} as in the header",
                    got=str(len(cells)),
                    path=self.name,
                    line=number,
                )
            row: list[float] = []
            for column, cell in enumerate(cells):
                cell = cell.strip()
                if not cell and column:
                    row.append(float("nan"))
                    continue
                value = float(cell) if _NUMBER.fullmatch(cell) else float("nan")
                if not np.isfinite(value):
                    expected = (
                        "a time in seconds" if column == 0 else "a pressure in kPa or an empty cell"
                    )
                    raise BadFile(
                        "not a number",
                        expected=expected,
                        got=repr(cell),
                        path=self.name,
                        line=number,
                        column=column + 1,
                        column_name=self.columns[column],
                    )
                row.append(value)
            if row[0] <= last_t_s:
                raise BadFile(
                    "time does not increase",
                    expected=f"a time after {last_t_s!r} s",
                    got=repr(row[0]),
                    path=self.name,
                    line=number,
                    column=1,
                    column_name=self.columns[0],
                )
            last_t_s = row[0]
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(len(rows), width)

    def _chunks(self, rows: FloatArray) -> Iterator[PressureChunk]:
        t_s = np.ascontiguousarray(rows[:, 0])
        for foot, columns in self._foot_columns.items():
            yield PressureChunk(
                foot=foot,
                t_s=t_s,
                pressure_kpa={
                    pad: np.ascontiguousarray(rows[:, column])
                    for pad, column in zip(self.pads[foot], columns, strict=True)
                },
                sample_rate_hz=self.sample_rate_hz,
            )


def read_interchange(source: Source, *, chunk_s: float = 10.0) -> InterchangeReader:
    """Open an interchange CSV (a path or an open file) for streaming; see `InterchangeReader`."""
    return InterchangeReader(source, chunk_s=chunk_s)


class InterchangeWriter:
    """Writes rows of pad pressures as an interchange CSV.

    `columns` are ``<foot>.<pad>`` names in the order to write; metadata goes into the
    leading ``# key=value`` lines (``sample_rate_hz`` first when given).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[str],
        columns: Sequence[str],
        *,
        sample_rate_hz: float | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        for index, name in enumerate(columns):
            if _parse_column(name) is None:
                raise BadValue("unknown column", name="columns", expected=_COLUMN_FORM,
                               got=repr(name), where=f"column {index + 2}")  # fmt: skip
        if len(set(columns)) != len(columns) or not columns:
            raise BadValue(
                "bad column list",
                name="columns",
                expected="one or more distinct <foot>.<pad> names",
                got=repr(list(columns)),
            )
        self.columns = tuple(columns)
        self._owned: IO[str] | None = None
        if isinstance(target, (str, os.PathLike)):
            self._owned = open_private_text(target, newline="\n")
            self._file: IO[str] = self._owned
        else:
            self._file = target
        lines = []
        if sample_rate_hz is not None:
            lines.append(f"# {RATE_KEY}={sample_rate_hz:g}")
        for key, value in (metadata or {}).items():
            if "\n" in key + value or "=" in key:
                raise BadValue(
                    "bad metadata",
                    name="metadata",
                    expected="one-line key=value, no '=' in the key",
                    got=repr(f"{key}={value}"),
                )
            if key != RATE_KEY or sample_rate_hz is None:
                lines.append(f"# {key}={value}")
        lines.append(",".join((TIME_COLUMN, *self.columns)))
        self._file.write("\n".join(lines) + "\n")
        self._row_format = ",".join(["%.9g"] + ["%.6g"] * len(self.columns))

    def write_rows(self, t_s: FloatArray, pressure_kpa: Mapping[str, FloatArray]) -> None:
        """Write samples: `pressure_kpa` maps every column name to an array like `t_s`."""
        missing = [name for name in self.columns if name not in pressure_kpa]
        if missing:
            raise BadValue(
                "missing column",
                name="pressure_kpa",
                expected=", ".join(self.columns),
                got=f"no {missing[0]}",
            )
        table = np.column_stack(
            [t_s, *(np.asarray(pressure_kpa[name], dtype=np.float64) for name in self.columns)]
        )
        if np.isinf(table).any() or np.isnan(table[:, 0]).any():
            raise BadValue(
                "cannot write",
                name="t_s, pressure_kpa",
                expected="finite times and pressures (NaN = missing)",
                got="an infinite value or a missing time",
            )
        # What np.savetxt writes (the row format per row), formatted many rows per call.
        line = self._row_format + "\n"
        for start in range(0, len(table), _WRITE_ROWS):
            part = table[start : start + _WRITE_ROWS]
            text = (line * len(part)) % tuple(part.ravel().tolist())
            self._file.write(text.replace("nan", ""))

    def write_chunks(self, chunks: Iterable[PressureChunk]) -> None:
        """Write chunks of the feet in `columns` that cover the same samples (same `t_s`)."""
        group = list(chunks)
        if not group:
            return
        t_s = group[0].t_s
        values: dict[str, FloatArray] = {}
        for chunk in group:
            if not np.array_equal(chunk.t_s, t_s):
                raise BadChunk(
                    "chunks of one row block differ in time",
                    foot=chunk.foot,
                    what="t_s",
                    expected="equal t_s",
                    got=f"{chunk.foot} t_s from {chunk.t_s[:1]!r}",
                )
            for pad, pressure in chunk.pressure_kpa.items():
                values[column_name(chunk.foot, pad)] = pressure
        nan = np.full(len(t_s), np.nan)
        self.write_rows(t_s, {name: values.get(name, nan) for name in self.columns})

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
        else:
            self._file.flush()

    def __enter__(self) -> InterchangeWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_interchange(
    target: str | os.PathLike[str] | IO[str],
    chunks: Iterable[PressureChunk],
    *,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a stream of chunks (as `InterchangeReader` yields them) to an interchange CSV.

    Chunks of different feet with the same `t_s` become the same rows; the columns are
    those of the first rows, in wire order per foot, left first.
    """
    writer: InterchangeWriter | None = None
    group: list[PressureChunk] = []

    def flush() -> None:
        nonlocal writer
        if not group:
            return
        if writer is None:
            by_foot = {chunk.foot: chunk for chunk in group}
            columns = [
                column_name(foot, pad)
                for foot in FOOT_IDS
                if foot in by_foot
                for pad in PAD_IDS
                if pad in by_foot[foot].pressure_kpa
            ]
            writer = InterchangeWriter(
                target, columns, sample_rate_hz=group[0].sample_rate_hz, metadata=metadata
            )
        writer.write_chunks(group)
        group.clear()

    try:
        for chunk in chunks:
            if group and (
                chunk.foot in {c.foot for c in group} or not np.array_equal(chunk.t_s, group[0].t_s)
            ):
                flush()
            group.append(chunk)
        flush()
    finally:
        if writer is not None:
            writer.close()
