"""Known-load calibration: the tester's load table and the fit of a whole insole from it.

The table is CSV (hardware/calibration.md says how to take it):

```
# insole_id=305419896
# foot=left
pad,load_n,counts
ball_center,0,14
ball_center,4.903,402
ball_center,9.807,771
```

Optional `# key=value` lines first, then the header `pad,load_n,counts`, then one row per
settled hold: the pad loaded, the whole force on its spreader in newtons (0 = unloaded), and
the pad's mean raw reading over the hold in ADC counts. Rows with load 0 give the pad's tare;
the others fit its power law. Pads without rows keep their constants.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from numbguard.calibration.fit import PowerLawFit, fit_pad
from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.model import ADC_FLOOR_COUNTS, FULL_SCALE_COUNTS
from numbguard.calibration.textfile import read_text
from numbguard.errors import BadCalibration, BadFile
from numbguard.pads import PAD_IDS

HEADER = ("pad", "load_n", "counts")


@dataclass
class LoadTable:
    """Readings under known loads, per pad, with the file's `# key=value` metadata."""

    metadata: dict[str, str] = field(default_factory=dict)
    load_n: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, list[float]] = field(default_factory=dict)

    def add(self, pad: str, load_n: float, counts: float) -> None:
        self.load_n.setdefault(pad, []).append(load_n)
        self.counts.setdefault(pad, []).append(counts)

    def to_csv(self) -> str:
        out = io.StringIO()
        for key, value in self.metadata.items():
            out.write(f"# {key}={value}\n")
        out.write(",".join(HEADER) + "\n")
        for pad in self.load_n:
            for load, reading in zip(self.load_n[pad], self.counts[pad], strict=True):
                out.write(f"{pad},{load:g},{reading:g}\n")
        return out.getvalue()


def _cell(
    text: str, name: str, source: str, line: int, column: int, low: float, high: float
) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also refuses NaN
        raise BadFile(
            f"bad {name}",
            path=source,
            line=line,
            column=column,
            column_name=name,
            expected=f"a number from {low:g} to {high:g}",
            got=repr(text),
        )
    return value


def parse_load_table(text: str, source: str = "load table") -> LoadTable:
    table = LoadTable()
    lines = text.splitlines()
    first = 0
    while first < len(lines) and lines[first].startswith("#"):
        key, sep, value = lines[first][1:].strip().partition("=")
        if not sep or not key.strip():
            raise BadFile(
                "bad metadata line",
                path=source,
                line=first + 1,
                expected="# key=value",
                got=repr(lines[first]),
            )
        table.metadata[key.strip()] = value.strip()
        first += 1
    rows = csv.reader(lines[first:])
    header = next(rows, None)
    if header is None or tuple(cell.strip() for cell in header) != HEADER:
        raise BadFile(
            "bad header", path=source, line=first + 1, expected=",".join(HEADER), got=repr(header)
        )
    for number, row in enumerate(rows, start=first + 2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise BadFile(
                "wrong number of cells",
                path=source,
                line=number,
                expected=f"{len(HEADER)} ({','.join(HEADER)})",
                got=str(len(row)),
            )
        pad = row[0].strip()
        if pad not in PAD_IDS:
            raise BadFile(
                "unknown pad",
                path=source,
                line=number,
                column=1,
                expected="one of " + ", ".join(PAD_IDS),
                got=repr(pad),
            )
        load = _cell(row[1].strip(), "load_n", source, number, 2, 0.0, 10_000.0)
        reading = _cell(row[2].strip(), "counts", source, number, 3, 0.0, FULL_SCALE_COUNTS)
        table.add(pad, load, reading)
    if not table.load_n:
        raise BadFile(
            "no readings", path=source, expected="at least one row after the header", got="none"
        )
    return table


def read_load_table(path: str | os.PathLike[str]) -> LoadTable:
    text = read_text(path, "load table", "a readable CSV file")
    return parse_load_table(text, source=str(path))


def calibrate_from_loads(
    calibration: InsoleCalibration, table: LoadTable
) -> tuple[InsoleCalibration, dict[str, PowerLawFit]]:
    """Tare from the unloaded rows and fit gain/exponent from the loaded ones, per pad."""
    fits: dict[str, PowerLawFit] = {}
    result = calibration
    for pad in table.load_n:
        if pad not in result.pads:
            raise BadCalibration(
                "load table names a pad this insole does not have",
                expected="one of " + ", ".join(result.pad_ids),
                got=pad,
                pad=pad,
            )
        loads = np.asarray(table.load_n[pad])
        readings = np.asarray(table.counts[pad])
        pad_calibration = result.pads[pad]
        if np.any(loads == 0):
            zero_counts = round(float(np.median(readings[loads == 0])))
            if zero_counts >= ADC_FLOOR_COUNTS:
                # The known loads would add to an unknown preload and bias the fit.
                raise BadCalibration(
                    "pad reads a load with nothing on it: check the spreader is not glued "
                    "under tension, then calibrate again",
                    expected=f"an unloaded reading below {ADC_FLOOR_COUNTS} counts",
                    got=f"{zero_counts} counts",
                    where=f"pad {pad}",
                    pad=pad,
                )
            pad_calibration = pad_calibration.with_tare(zero_counts)
        pad_calibration, fits[pad] = fit_pad(pad_calibration, readings[loads > 0], loads[loads > 0])
        result = result.with_pad(pad_calibration)
    return result, fits
