"""Import of Moticon OpenGo text exports: 16 pressure cells per insole mapped to our pads.

An export is tab-separated text: ``# key: value`` lines, a ``# time<TAB>...`` line naming the
columns, then one row per sample (100 Hz). Per insole there are 16 pressure cells in N/cm2
(1 N/cm2 = 10 kPa), inertial data, total force, centre of pressure and step events. An empty
cell is a dropped radio packet: a missing sample.

Cell layout (not documented in the exports; fitted from them). The vendor's total force and
centre of pressure are exact linear functions of the 16 cells, so a least-squares fit over
the sample exports gives each cell's area and position on the insole, the same for both feet
(x from heel -0.5 to toe +0.5; y positive towards the medial side)::

    cells  1-4   x -0.42 .. -0.27   heel
    cells  5-8   x -0.15 .. +0.08   midfoot (7 medial: the arch, almost never loaded)
    cell   9     x +0.26, y +0.27   1st metatarsal head       -> ball_medial
    cells 10-11  x +0.23, y +0.06 / -0.12   2nd-3rd heads     -> ball_center
    cells 12-13  x +0.19, y -0.29 / -0.46   4th-5th heads     -> ball_lateral
    cells 14-16  x +0.36 .. +0.41   toes (14: hallux)

Each pad is the mean pressure of its cells (`MOTICON_CELLS`). Midfoot and toe cells have no
pad and are not imported; the insole has no dorsal (lace) cells.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

import numpy as np

from numbguard.errors import BadFile, UnreadableFile
from numbguard.io.chunks import chunk_samples, rate_from_times
from numbguard.pads import FOOT_IDS, Foot
from numbguard.types import FloatArray, PressureChunk

KPA_PER_N_PER_CM2: Final = 10.0
MOTICON_CELLS: Final[dict[str, tuple[int, ...]]] = {
    "heel": (1, 2, 3, 4),
    "ball_medial": (9,),
    "ball_center": (10, 11),
    "ball_lateral": (12, 13),
}
# Event codes (heel strike, toe off) of the vendor's "<foot> steps" columns, and of the
# hand-marked "<Foot> Events" columns (1 = heel strike, 2 = mid-stance minimum).
STEP_CODES: Final[dict[Foot, tuple[float, float]]] = {"left": (11, 15), "right": (21, 25)}
MARKED_CODES: Final[tuple[float, float]] = (1, float("nan"))

_CELL_COLUMN = re.compile(r"(left|right) pressure (\d+)\[(.*)\]")
_STEPS_COLUMN = re.compile(r"(left|right) steps\[\]|(Left|Right) Events\[\]")
_RATE_PROBE_ROWS: Final = 50


@dataclass(frozen=True)
class MoticonEvents:
    """Step events of one export per foot (time column's seconds): the vendor's or hand-marked."""

    heel_strike_s: dict[Foot, FloatArray]
    toe_off_s: dict[Foot, FloatArray]


class MoticonReader:
    """Streaming reader of one Moticon OpenGo text export; iterate for `PressureChunk`s."""

    def __init__(self, source: str | os.PathLike[str], *, chunk_s: float = 10.0) -> None:
        self.name = str(source)
        try:
            self._file: IO[str] = open(source, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            raise UnreadableFile(
                self.name, error.strerror or str(error), expected="a Moticon text export"
            ) from None
        self.metadata: dict[str, str] = {}
        self._line = 0
        self._pending: list[str] = []  # data lines read ahead (for the rate)
        try:
            self._read_header()
            self.sample_rate_hz = self._sample_rate()
        except BaseException:
            self._file.close()
            raise
        self._chunk_n = chunk_samples(chunk_s, self.sample_rate_hz)
        self._last_t_s = -np.inf

    def _next_line(self) -> str | None:
        try:
            line = self._file.readline()
        except UnicodeDecodeError:
            raise BadFile(
                "not UTF-8 text",
                expected="a UTF-8 text export",
                got="undecodable bytes",
                path=self.name,
                line=self._line + 1,
            ) from None
        if not line:
            return None
        self._line += 1
        return line.rstrip("\r\n")

    def _read_header(self) -> None:
        names: list[str] | None = None
        while names is None:
            line = self._next_line()
            if line is None or not line.startswith("#"):
                raise BadFile(
                    "no column line",
                    expected="a '# time<TAB>...' line before the data",
                    got=repr(line[:40]) if line else "end of file",
                    path=self.name,
                    line=self._line,
                )
            text = line[1:].strip()
            if text.startswith("time\t"):
                names = [name.strip() for name in text.split("\t")]
            else:
                key, _, value = text.partition(":")
                self.metadata[key.strip()] = value.strip()
        self.columns = names
        cells: dict[Foot, dict[int, int]] = {foot: {} for foot in FOOT_IDS}
        self._event_columns: list[tuple[Foot, int, tuple[float, float]]] = []
        for index, name in enumerate(names):
            match = _CELL_COLUMN.fullmatch(name)
            if match:
                if match.group(3) != "N/cm²":
                    raise BadFile(
                        "unexpected unit",
                        expected="N/cm²",
                        got=repr(match.group(3)),
                        path=self.name,
                        line=self._line,
                        column=index + 1,
                    )
                cells[match.group(1)][int(match.group(2))] = index  # type: ignore[index]
            steps = _STEPS_COLUMN.fullmatch(name)
            if steps:
                foot: Foot = (
                    "left" if (steps.group(1) or steps.group(2)).lower() == "left" else "right"
                )
                codes = STEP_CODES[foot] if steps.group(1) else MARKED_CODES
                self._event_columns.append((foot, index, codes))
        self._pad_columns: dict[Foot, dict[str, list[int]]] = {}
        for foot in FOOT_IDS:
            if not cells[foot]:
                continue
            absent = [
                n for cell_list in MOTICON_CELLS.values() for n in cell_list if n not in cells[foot]
            ]
            if absent:
                raise BadFile(
                    "pressure cell missing",
                    expected="cells 1-16 of each insole",
                    got=f"no {foot} pressure {absent[0]}",
                    path=self.name,
                    line=self._line,
                )
            self._pad_columns[foot] = {
                pad: [cells[foot][n] for n in numbers] for pad, numbers in MOTICON_CELLS.items()
            }
        if not self._pad_columns:
            raise BadFile(
                "no pressure columns",
                expected="'left pressure 1[N/cm²]' ...",
                got=", ".join(names[:4]),
                path=self.name,
                line=self._line,
            )
        self.pads: dict[Foot, tuple[str, ...]] = {
            foot: tuple(MOTICON_CELLS) for foot in self._pad_columns
        }

    def _sample_rate(self) -> float:
        while len(self._pending) < _RATE_PROBE_ROWS:
            line = self._next_line()
            if line is None:
                break
            self._pending.append(line)
        times = [
            self._parse_time(line, self._line - len(self._pending) + i + 1)
            for i, line in enumerate(self._pending)
            if line.strip()
        ]
        if len(times) < 2:
            return 100.0  # the rate of every OpenGo text export
        return rate_from_times(np.asarray(times, dtype=np.float64), self.name)

    def _parse_time(self, line: str, number: int) -> float:
        cell = line.split("\t", 1)[0].strip()
        try:
            value = float(cell)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise BadFile(
                "not a number",
                expected="a time in seconds",
                got=repr(cell),
                path=self.name,
                line=number,
                column=1,
                column_name="time",
            )
        return value

    def _parse_rows(self, lines: list[str], first_line: int) -> tuple[FloatArray, FloatArray]:
        """Times and a (rows x columns) table of floats; empty cells are NaN."""
        width = len(self.columns)
        wanted = sorted(
            {c for pads in self._pad_columns.values() for cols in pads.values() for c in cols}
        )
        table = np.full((len(lines), width), np.nan)
        t_s = np.empty(len(lines))
        for row, line in enumerate(lines):
            number = first_line + row
            cells = line.split("\t")
            if len(cells) != width:
                raise BadFile(
                    "wrong number of cells",
                    expected=f"{width} as in the column line",
                    got=str(len(cells)),
                    path=self.name,
                    line=number,
                )
            t_s[row] = self._parse_time(line, number)
            if t_s[row] <= (t_s[row - 1] if row else self._last_t_s):
                raise BadFile(
                    "time does not increase",
                    expected="increasing times",
                    got=repr(float(t_s[row])),
                    path=self.name,
                    line=number,
                    column=1,
                    column_name="time",
                )
            for column in wanted:
                cell = cells[column].strip()
                if not cell:
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    value = float("nan")
                if np.isfinite(value):
                    table[row, column] = value
                else:  # also 'nan' and 'inf' spelled out: only an empty cell is missing
                    raise BadFile(
                        "not a number",
                        expected="a pressure in N/cm² or an empty cell",
                        got=repr(cell),
                        path=self.name,
                        line=number,
                        column=column + 1,
                        column_name=self.columns[column],
                    )
        return t_s, table

    def _data_lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of each non-blank data line, the read-ahead ones first."""
        first = self._line - len(self._pending) + 1
        pending, self._pending = self._pending, []
        for offset, line in enumerate(pending):
            if line.strip():
                yield first + offset, line
        while (line_or_none := self._next_line()) is not None:
            if line_or_none.strip():
                yield self._line, line_or_none

    def __iter__(self) -> Iterator[PressureChunk]:
        lines: list[str] = []
        first_line = 0
        try:
            for number, line in self._data_lines():
                if not lines:
                    first_line = number
                lines.append(line)
                if len(lines) == self._chunk_n:
                    yield from self._chunks(lines, first_line)
                    lines = []
            if lines:
                yield from self._chunks(lines, first_line)
        finally:
            self._file.close()

    def _chunks(self, lines: list[str], first_line: int) -> Iterator[PressureChunk]:
        # Blank lines are skipped, so line numbers in errors are exact only without them.
        t_s, table = self._parse_rows(lines, first_line)
        self._last_t_s = float(t_s[-1])
        for foot, pads in self._pad_columns.items():
            yield PressureChunk(
                foot=foot,
                t_s=t_s,
                pressure_kpa={
                    pad: table[:, columns].mean(axis=1) * KPA_PER_N_PER_CM2
                    for pad, columns in pads.items()
                },
                sample_rate_hz=self.sample_rate_hz,
            )

    def events(self) -> MoticonEvents:
        """Read the rest of the file for the vendor's heel-strike and toe-off events."""
        strikes: dict[Foot, list[float]] = {foot: [] for foot in FOOT_IDS}
        toe_offs: dict[Foot, list[float]] = {foot: [] for foot in FOOT_IDS}
        try:
            for number, line in self._data_lines():
                cells = line.split("\t")
                for foot, column, (strike_code, toe_off_code) in self._event_columns:
                    code = cells[column].strip() if column < len(cells) else ""
                    if not code:
                        continue
                    try:
                        value = float(code)
                    except ValueError:
                        raise BadFile(
                            "bad step event",
                            expected="a numeric event code",
                            got=repr(code),
                            path=self.name,
                            line=number,
                            column=column + 1,
                        ) from None
                    t_s = self._parse_time(line, number)
                    if value == strike_code:
                        strikes[foot].append(t_s)
                    elif value == toe_off_code:
                        toe_offs[foot].append(t_s)
        finally:
            self._file.close()
        return MoticonEvents(
            heel_strike_s={foot: np.array(times) for foot, times in strikes.items()},
            toe_off_s={foot: np.array(times) for foot, times in toe_offs.items()},
        )


def read_moticon(source: str | os.PathLike[str], *, chunk_s: float = 10.0) -> MoticonReader:
    """Open a Moticon OpenGo text export for streaming as pad chunks (see `MoticonReader`)."""
    return MoticonReader(source, chunk_s=chunk_s)


def read_moticon_events(source: str | os.PathLike[str]) -> MoticonEvents:
    """The vendor's heel-strike and toe-off events from the ``<foot> steps`` columns."""
    return MoticonReader(source).events()
