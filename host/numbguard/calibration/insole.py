"""One insole's calibration: a `PadCalibration` per pad present, and block conversion of
sample sets (one column per pad, as decoded from data frames) into kPa with saturation flags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from numbguard.calibration.model import (
    FULL_SCALE_COUNTS,
    ArrayLike,
    BoolArray,
    FloatArray,
    IntArray,
    as_counts,
    counts_from_raw_pressure_kpa,
    pressure_and_saturation,
    raw_pressure_kpa,
)
from numbguard.calibration.pad import NUMERIC_FIELDS, PadCalibration
from numbguard.calibration.parts import default_pad_calibrations
from numbguard.errors import BadCalibration, BadValue
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot

# A block of at least this many sample sets, all whole counts, converts through a table of
# every count (0-4095) per pad, made once per calibration: the power law runs 4096 times per
# pad rather than once per sample, and each sample reads the value its count gives (the
# same float64 operations). Shorter blocks (live data) convert directly.
TABLE_MIN_SETS: Final = 1024
_EVERY_COUNT: Final = np.arange(FULL_SCALE_COUNTS + 1, dtype=np.float64)


@dataclass(frozen=True)
class CalibratedSamples:
    """Pressures of a block of sample sets: rows are samples, columns are `pads`."""

    pads: tuple[str, ...]
    pressure_kpa: FloatArray
    saturated: BoolArray

    def pressure_by_pad(self) -> dict[str, FloatArray]:
        return {pad: self.pressure_kpa[..., i] for i, pad in enumerate(self.pads)}

    def saturated_by_pad(self) -> dict[str, BoolArray]:
        return {pad: self.saturated[..., i] for i, pad in enumerate(self.pads)}


@dataclass(frozen=True)
class InsoleCalibration:
    """Calibration of every pad present on one insole, kept in wire (pad-bit) order."""

    pads: Mapping[str, PadCalibration]
    foot: Foot | None = None
    insole_id: int | None = None
    _columns: dict[str, FloatArray] = field(init=False, repr=False, compare=False)
    # Per tuple of pads converted through the table: pressure and saturation per count.
    _tables: dict[tuple[str, ...], tuple[FloatArray, BoolArray]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.pads:
            raise BadCalibration(
                "an insole calibration needs at least one pad",
                expected="one or more of " + ", ".join(PAD_IDS),
                got="none",
            )
        for pad, calibration in self.pads.items():
            if not isinstance(calibration, PadCalibration) or calibration.pad != pad:
                got = calibration.pad if isinstance(calibration, PadCalibration) else calibration
                raise BadCalibration(
                    "pad calibration filed under another pad",
                    expected=f"the calibration of {pad}",
                    got=repr(got),
                    pad=pad,
                )
        if self.foot is not None and self.foot not in FOOT_IDS:
            raise BadCalibration("unknown foot", expected="left or right", got=repr(self.foot))
        if self.insole_id is not None and (
            isinstance(self.insole_id, bool)
            or not isinstance(self.insole_id, int)
            or not 0 <= self.insole_id < 2**32
        ):
            raise BadCalibration(
                "bad insole id", expected="an integer from 0 to 2**32 - 1", got=repr(self.insole_id)
            )
        ordered = {pad: self.pads[pad] for pad in PAD_IDS if pad in self.pads}
        object.__setattr__(self, "pads", ordered)
        # Per-pad constants as arrays in wire order, so a block converts in one numpy pass.
        columns = {
            name: np.array([getattr(c, name) for c in ordered.values()], dtype=np.float64)
            for name in NUMERIC_FIELDS
        }
        columns["tare_kpa"] = raw_pressure_kpa(
            columns["tare_counts"],
            columns["divider_ohms"],
            columns["gain"],
            columns["exponent"],
            columns["area_mm2"],
        )
        object.__setattr__(self, "_columns", columns)

    @classmethod
    def default(
        cls,
        pads: Iterable[str] = PAD_IDS,
        foot: Foot | None = None,
        insole_id: int | None = None,
    ) -> InsoleCalibration:
        """The nominal calibration of the chosen parts (hardware/), before any fit or tare."""
        return cls(default_pad_calibrations(pads), foot=foot, insole_id=insole_id)

    @property
    def pad_ids(self) -> tuple[str, ...]:
        return tuple(self.pads)

    def _columns_for(
        self, pads: Sequence[str] | None, shape: tuple[int, ...]
    ) -> tuple[dict[str, FloatArray], tuple[str, ...]]:
        """Per-pad constants for these columns, after checking the pads and the shape."""
        columns = tuple(pads) if pads is not None else self.pad_ids
        missing = [pad for pad in columns if pad not in self.pads]
        if missing:
            raise BadCalibration(
                "no calibration for pad",
                expected="one of " + ", ".join(self.pad_ids),
                got=", ".join(missing),
                pad=missing[0],
            )
        if len(shape) not in (1, 2) or shape[-1] != len(columns):
            raise BadValue(
                "values do not match the pads",
                expected=f"shape (samples, {len(columns)}) for {', '.join(columns)}",
                got=f"shape {shape}",
                name="values",
            )
        index = [self.pad_ids.index(pad) for pad in columns]
        return {name: array[index] for name, array in self._columns.items()}, columns

    def counts_for(self, pressure_kpa: ArrayLike, pads: Sequence[str] | None = None) -> IntArray:
        """The 12-bit counts these net pressures read as (samples x pads): the inverse of
        `convert`, rounded and held to 0-4095, for simulated insoles and test vectors."""
        pressure = np.asarray(pressure_kpa, dtype=np.float64)
        if not np.all(np.isfinite(pressure)):
            raise BadValue(
                "pressure is not a finite number",
                expected="kPa values",
                got="NaN or infinity",
                name="pressure_kpa",
            )
        c, _ = self._columns_for(pads, pressure.shape)
        counts = counts_from_raw_pressure_kpa(
            pressure + c["tare_kpa"], c["divider_ohms"], c["gain"], c["exponent"], c["area_mm2"]
        )
        result: IntArray = np.clip(np.rint(counts), 0, FULL_SCALE_COUNTS).astype(np.int64)
        return result

    def convert(self, counts: ArrayLike, pads: Sequence[str] | None = None) -> CalibratedSamples:
        """Counts (samples x pads, or one sample set) to net kPa and saturation flags.

        `pads` names the columns (default: every pad of this calibration, in wire order).
        NaN marks a missing sample and stays NaN, never saturated.
        """
        whole = _whole_counts(counts)
        if whole is not None:
            c, columns = self._columns_for(pads, whole.shape)
            tables = self._tables.get(columns)
            if tables is None:
                every_count = np.repeat(_EVERY_COUNT[:, None], len(columns), axis=1)
                tables = self._tables[columns] = self._pressure_and_saturation(every_count, c)
            by_count, saturated_by_count = tables
            at = whole  # in place: the flat index of (count, pad) in the tables
            at *= len(columns)
            at += np.arange(len(columns))
            return CalibratedSamples(
                pads=columns,
                pressure_kpa=by_count.ravel().take(at),
                saturated=saturated_by_count.ravel().take(at),
            )
        values = as_counts(counts)
        c, columns = self._columns_for(pads, values.shape)
        pressure, saturated = self._pressure_and_saturation(values, c)
        return CalibratedSamples(pads=columns, pressure_kpa=pressure, saturated=saturated)

    @staticmethod
    def _pressure_and_saturation(
        values: FloatArray, c: dict[str, FloatArray]
    ) -> tuple[FloatArray, BoolArray]:
        return pressure_and_saturation(
            values,
            c["divider_ohms"],
            c["gain"],
            c["exponent"],
            c["area_mm2"],
            c["tare_kpa"],
            c["rated_kpa"],
            c["saturation_counts"],
        )

    def with_pad(self, calibration: PadCalibration) -> InsoleCalibration:
        """This calibration with one pad added or replaced."""
        return replace(self, pads={**self.pads, calibration.pad: calibration})

    def with_tare(self, tare_counts: Mapping[str, int]) -> InsoleCalibration:
        """This calibration with new tare offsets for the pads named."""
        unknown = [pad for pad in tare_counts if pad not in self.pads]
        if unknown:
            raise BadCalibration(
                "tare for a pad this insole does not have",
                expected="one of " + ", ".join(self.pad_ids),
                got=", ".join(unknown),
                pad=unknown[0],
            )
        pads = dict(self.pads)
        for pad, counts in tare_counts.items():
            pads[pad] = pads[pad].with_tare(counts)
        return replace(self, pads=pads)


def _whole_counts(counts: ArrayLike) -> IntArray | None:
    """A long block (at least `TABLE_MIN_SETS` sample sets) of whole counts in 0-4095 as
    integers (a new array), else None (short, missing samples, fractions or out of range:
    `as_counts`)."""
    values = np.asarray(counts)
    if values.ndim != 2 or len(values) < TABLE_MIN_SETS:
        return None
    if values.dtype.kind in "iu":
        whole = values.astype(np.int64)
    elif values.dtype.kind == "f":
        if not np.isfinite(values).all():  # NaN: a missing sample
            return None
        whole = values.astype(np.int64)
        if not np.array_equal(whole, values):
            return None
    else:
        return None
    if whole.min() < 0 or whole.max() > FULL_SCALE_COUNTS:
        return None
    return whole
