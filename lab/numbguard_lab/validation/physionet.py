"""Readers for the PhysioNet gait recordings used to validate step detection.

- ``gaitndd`` (Gait in Neurodegenerative Disease): one force-sensitive resistor under each
  foot, WFDB format 212 at 300 Hz, arbitrary units where -2048 is the ADC floor. The sensor
  sits under the sole and reads the whole foot's load, so it maps to our ``heel`` channel (a
  heel + forefoot sum). The unloaded foot reads well above the ADC floor, and that baseline
  (-1700 to -1300 units) varies by record and drifts within one, so the reader tares each
  foot like an insole that keeps re-zeroing: the baseline follows the
  `GAITNDD_TARE_PERCENTILE` percentile (a swing, when walking) of each `GAITNDD_TARE_S`
  block, interpolated between blocks; units above it are scaled by `GAITNDD_KPA_PER_UNIT`
  (clipped at 0).
- ``gaitpdb`` (Gait in Parkinson's Disease): eight force sensors per foot in newtons at 100 Hz.
  Sensor 1 is the heel, 6 the lateral and 7 the medial forefoot (both feet). A force is turned
  into a pressure over `GAITPDB_SENSOR_AREA_CM2`; 1 N/cm2 = 10 kPa.

Reference events: `read_gaitndd_events` (left heel strikes and per-stride timing from the
``.ts`` files) and `gaitpdb_reference_contacts` (contacts from the 8-sensor total force).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from numbguard.errors import InputError
from numbguard.io.chunks import chunk_samples, split_chunks
from numbguard.pads import Foot
from numbguard.types import FloatArray, PressureChunk

IntArray = npt.NDArray[np.int32]

# The 2000-2600 units from the unloaded baseline to the walking peak map to 200-260 kPa, the
# range of heel and forefoot peaks in walking.
GAITNDD_KPA_PER_UNIT: Final = 0.1
GAITNDD_TARE_PERCENTILE: Final = 2.0
GAITNDD_TARE_S: Final = 30.0
# Effective area of one gaitpdb sensor: peaks of 250-450 N per sensor in walking become
# 250-450 kPa, the range of in-shoe plantar peaks.
GAITPDB_SENSOR_AREA_CM2: Final = 10.0
KPA_PER_N_PER_CM2: Final = 10.0

_GAITPDB_FOOT_COLUMNS: Final[dict[Foot, int]] = {"left": 1, "right": 9}  # column of sensor 1
# Our pad -> gaitpdb sensor number (1-8) under each foot.
GAITPDB_PADS: Final[dict[str, int]] = {"heel": 1, "ball_lateral": 6, "ball_medial": 7}


@dataclass(frozen=True)
class GaitnddEvents:
    """Reference gait events of one gaitndd record (from its ``.ts`` file)."""

    left_heel_strike_s: FloatArray
    left_stride_s: FloatArray
    right_stride_s: FloatArray
    left_swing_s: FloatArray
    right_swing_s: FloatArray
    left_stance_s: FloatArray
    right_stance_s: FloatArray


def _decode_format_212(raw: bytes, where: str) -> IntArray:
    """Unpack WFDB format 212: two 12-bit two's complement samples in every three bytes."""
    usable = len(raw) - len(raw) % 3
    data = np.frombuffer(raw[:usable], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    first = data[:, 0] | ((data[:, 1] & 0x0F) << 8)
    second = data[:, 2] | ((data[:, 1] & 0xF0) << 4)
    samples = np.empty(2 * len(data), dtype=np.int32)
    samples[0::2] = first
    samples[1::2] = second
    samples[samples >= 2048] -= 4096
    if len(raw) % 3 == 2:  # a trailing lone sample
        tail = raw[-2] | ((raw[-1] & 0x0F) << 8)
        samples = np.append(samples, tail - 4096 if tail >= 2048 else tail)
    elif len(raw) % 3 == 1:
        raise InputError(
            "truncated format-212 data",
            expected="whole 3-byte sample pairs",
            got=f"{len(raw)} bytes",
            where=where,
        )
    return samples


@dataclass(frozen=True)
class _SignalSpec:
    file_name: str
    n_samples: int
    initial: int
    checksum: int


def _parse_header(path: Path) -> tuple[float, int, dict[str, _SignalSpec]]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputError(
            "empty WFDB header", expected="a record line", got="nothing", where=str(path)
        )
    record = lines[0].split()
    try:
        n_signals, rate_hz, n_samples = int(record[1]), float(record[2]), int(record[3])
    except (IndexError, ValueError):
        raise InputError(
            "bad WFDB record line",
            expected="'<name> <signals> <rate> <samples>'",
            got=repr(lines[0]),
            where=f"{path} line 1",
        ) from None
    specs: dict[str, _SignalSpec] = {}
    for number, line in enumerate(lines[1 : 1 + n_signals], start=2):
        fields = line.split()
        if len(fields) < 7 or fields[1] != "212":
            raise InputError(
                "unsupported WFDB signal line",
                expected="format 212 with initial value and checksum",
                got=repr(line),
                where=f"{path} line {number}",
            )
        specs[fields[0]] = _SignalSpec(fields[0], n_samples, int(fields[5]), int(fields[6]))
    return rate_hz, n_samples, specs


def read_gaitndd_signal(record: Path | str, foot: Foot) -> tuple[float, IntArray]:
    """Raw samples (arbitrary units) of one foot of a gaitndd record; checks the checksum."""
    record = Path(record)
    rate_hz, n_samples, specs = _parse_header(record.with_suffix(".hea"))
    file_name = record.name + (".let" if foot == "left" else ".rit")
    spec = specs.get(file_name)
    if spec is None:
        raise InputError(
            "signal not in header", expected=file_name, got=", ".join(specs), where=str(record)
        )
    where = str(record.with_name(file_name))
    samples = _decode_format_212(record.with_name(file_name).read_bytes(), where)[:n_samples]
    # WFDB writes the initial value -2048 as -32768, its "invalid sample" code.
    initial = (
        -32768 if len(samples) and samples[0] == -2048 else (samples[0] if len(samples) else None)
    )
    if len(samples) != n_samples or initial != spec.initial:
        raise InputError(
            "signal does not match its header",
            expected=f"{n_samples} samples starting {spec.initial}",
            got=f"{len(samples)} starting {samples[0] if len(samples) else None}",
            where=where,
        )
    checksum = int(samples.sum()) & 0xFFFF
    if checksum != spec.checksum & 0xFFFF:
        raise InputError(
            "checksum mismatch",
            expected=str(spec.checksum & 0xFFFF),
            got=str(checksum),
            where=where,
        )
    return rate_hz, samples


def read_gaitndd(record: Path | str, *, chunk_s: float = 10.0) -> Iterator[PressureChunk]:
    """Chunks of both feet of a gaitndd record (``record`` without suffix), left then right."""
    feet: dict[Foot, FloatArray] = {}
    rate_hz = 0.0
    for foot in ("left", "right"):
        rate_hz, raw = read_gaitndd_signal(record, foot)
        feet[foot] = _tare(raw.astype(np.float64), round(GAITNDD_TARE_S * rate_hz))
    n = min(len(v) for v in feet.values())
    t_s = np.arange(n) / rate_hz
    per_chunk = chunk_samples(chunk_s, rate_hz)
    left = split_chunks("left", t_s, {"heel": feet["left"][:n]}, rate_hz, per_chunk)
    right = split_chunks("right", t_s, {"heel": feet["right"][:n]}, rate_hz, per_chunk)
    for pair in zip(left, right, strict=True):
        yield from pair


def _tare(raw: FloatArray, block_n: int) -> FloatArray:
    """kPa above a baseline that follows the low percentile of each block of `block_n`
    samples, interpolated between block centres so that it has no steps."""
    starts = np.arange(0, len(raw), block_n)
    baselines = [
        float(np.percentile(raw[a : a + block_n], GAITNDD_TARE_PERCENTILE)) for a in starts
    ]
    centres = np.minimum(starts + block_n / 2, len(raw) - 1)
    baseline = np.interp(np.arange(len(raw)), centres, baselines)
    tared: FloatArray = np.maximum(raw - baseline, 0.0) * GAITNDD_KPA_PER_UNIT
    return tared


def read_gaitndd_events(record: Path | str) -> GaitnddEvents:
    """Reference events from ``<record>.ts`` (13 columns per stride, see the PhysioNet docs)."""
    path = Path(record).with_suffix(".ts")
    try:
        table = np.loadtxt(path, ndmin=2)
    except ValueError as error:
        raise InputError(
            "bad .ts table", expected="13 numeric columns", got=str(error), where=str(path)
        ) from None
    if table.shape[1] != 13:
        raise InputError(
            "bad .ts table", expected="13 columns", got=f"{table.shape[1]}", where=str(path)
        )
    return GaitnddEvents(
        left_heel_strike_s=table[:, 0],
        left_stride_s=table[:, 1],
        right_stride_s=table[:, 2],
        left_swing_s=table[:, 3],
        right_swing_s=table[:, 4],
        left_stance_s=table[:, 7],
        right_stance_s=table[:, 8],
    )


def _read_gaitpdb_table(path: Path) -> FloatArray:
    try:
        table = np.loadtxt(path, ndmin=2)
    except ValueError as error:
        raise InputError(
            "bad gaitpdb table",
            expected="19 numeric tab-separated columns",
            got=str(error),
            where=str(path),
        ) from None
    if table.shape[1] != 19:
        raise InputError(
            "bad gaitpdb table", expected="19 columns", got=str(table.shape[1]), where=str(path)
        )
    return table


def read_gaitpdb(
    path: Path | str, *, pads: tuple[str, ...] = tuple(GAITPDB_PADS), chunk_s: float = 10.0
) -> Iterator[PressureChunk]:
    """Chunks of both feet of a gaitpdb walk with the chosen pads (a subset of `GAITPDB_PADS`)."""
    unknown = [pad for pad in pads if pad not in GAITPDB_PADS]
    if unknown:
        raise InputError(
            "no gaitpdb sensor for pad",
            expected="one of " + ", ".join(GAITPDB_PADS),
            got=repr(unknown[0]),
        )
    table = _read_gaitpdb_table(Path(path))
    rate_hz = 100.0
    t_s = table[:, 0] - table[0, 0]
    per_chunk = chunk_samples(chunk_s, rate_hz)
    scale = KPA_PER_N_PER_CM2 / GAITPDB_SENSOR_AREA_CM2
    streams = [
        split_chunks(
            foot,
            t_s,
            {pad: table[:, first + GAITPDB_PADS[pad] - 1] * scale for pad in pads},
            rate_hz,
            per_chunk,
        )
        for foot, first in _GAITPDB_FOOT_COLUMNS.items()
    ]
    for pair in zip(*streams, strict=True):
        yield from pair


def gaitpdb_total_force(path: Path | str) -> tuple[FloatArray, dict[Foot, FloatArray]]:
    """Time (s from the start) and the 8-sensor total force (N) of each foot."""
    table = _read_gaitpdb_table(Path(path))
    return table[:, 0] - table[0, 0], {"left": table[:, 17], "right": table[:, 18]}


@dataclass(frozen=True)
class GaitpdbReference:
    """Reference contacts of one foot: the steps, and loaded segments that are not steps."""

    contacts: list[tuple[float, float]]
    excluded: list[tuple[float, float]]

    @property
    def strike_s(self) -> FloatArray:
        return np.array([on for on, _ in self.contacts])

    @property
    def contact_s(self) -> FloatArray:
        return np.array([off - on for on, off in self.contacts])

    def stride_s(self, max_stride_s: float = 4.0) -> FloatArray:
        """Onset-to-onset times of consecutive steps with no excluded segment between them."""
        strides = []
        for (on, _), (next_on, _) in zip(self.contacts, self.contacts[1:], strict=False):
            between = any(on < a < next_on for a, _ in self.excluded)
            if not between and next_on - on <= max_stride_s:
                strides.append(next_on - on)
        return np.array(strides)


def gaitpdb_reference_contacts(
    t_s: FloatArray,
    total_n: FloatArray,
    *,
    threshold_fraction: float = 0.03,
    peak_fraction: float = 0.25,
    min_contact_s: float = 0.2,
    max_contact_ratio: float = 1.6,
) -> GaitpdbReference:
    """Contacts where the 8-sensor total exceeds a fraction of its robust maximum.

    The total under the whole foot is the best reference these walks carry: it rises at the
    first touch whatever part of the foot lands first. The 3% default (20-35 N) sits just
    above the swing baseline of every record, so the reference onset is close to first
    touch (at 5% it comes 10-30 ms later). A loaded segment is a step when it
    lasts from `min_contact_s` to `max_contact_ratio` times the median segment and its peak
    reaches `peak_fraction` of the robust maximum; longer ones (standing, shuffling turns
    where the total never unloads) and weak ones (sensor drift) are excluded from scoring.
    Segments cut by the recording's edges are left out.
    """
    robust_max = float(np.percentile(total_n, 99))
    loaded = np.concatenate(([False], total_n > threshold_fraction * robust_max, [False]))
    edges = np.flatnonzero(np.diff(loaded.astype(np.int8)))
    last = len(t_s) - 1
    segments = [
        (int(start), int(stop))
        for start, stop in zip(edges[0::2], edges[1::2], strict=True)
        if start > 0 and stop <= last
    ]
    durations = [float(t_s[stop] - t_s[start]) for start, stop in segments]
    max_contact_s = max_contact_ratio * float(np.median(durations)) if durations else 0.0
    contacts: list[tuple[float, float]] = []
    excluded: list[tuple[float, float]] = []
    for start, stop in segments:
        t_on, t_off = float(t_s[start]), float(t_s[stop])
        peak = float(total_n[start:stop].max())
        if min_contact_s <= t_off - t_on <= max_contact_s and peak >= peak_fraction * robust_max:
            contacts.append((t_on, t_off))
        elif t_off - t_on >= min_contact_s:
            excluded.append((t_on, t_off))
    return GaitpdbReference(contacts, excluded)
