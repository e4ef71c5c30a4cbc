"""Fixed windows of one foot's pad pressures, and the per-pad statistics the rules read.

Windows are counted in samples from the first sample of the foot, so the same data gives the
same windows however it is cut into chunks. Memory holds less than one window per foot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from numbguard.errors import BadChunk
from numbguard.pads import PLANTAR_PADS, Foot
from numbguard.types import FloatArray, PressureChunk

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PadWindows:
    """Statistics over `m` consecutive windows (NaN where a window has no data): arrays of
    shape (m,) for one pad, or (pads, m) for all pads of a foot."""

    valid_fraction: FloatArray
    mean_kpa: FloatArray
    min_kpa: FloatArray
    max_kpa: FloatArray
    p10_kpa: FloatArray  # 10th percentile: the swing / static level
    saturated_fraction: FloatArray
    below_min_count: FloatArray
    above_max_count: FloatArray
    half_range_kpa: FloatArray  # the smaller range of the window's two halves
    step_peak_kpa: FloatArray  # mean peak of the loading cycles inside the window (per step)

    @property
    def range_kpa(self) -> FloatArray:
        return self.max_kpa - self.min_kpa

    def row(self, index: int) -> PadWindows:
        """One pad's statistics out of a (pads, m) table (views, no copies)."""
        return PadWindows(*(getattr(self, name)[index] for name in _FIELDS))


_FIELDS = tuple(PadWindows.__dataclass_fields__)


@dataclass(frozen=True)
class GaitWindows:
    """Per window, what the summed plantar load (heel and ball pads) shows of the gait; arrays of
    shape (m,), NaN where the window has no plantar data.

    `relief`: in the weaker half of the window, how far the load drops below its peak, as a
    share of the peak ((max - min) / max): ~1 when the foot leaves the ground (walking,
    running), about 0.3-0.6 on a machine whose pedal carries the foot, small in calf raises
    and weight shifts, where the body weight stays on the foot.
    `duty`: share of the window the load is above 15% of its range (the foot in contact):
    ~0.6 walking, ~0.3-0.4 running, shorter the faster the run.
    """

    relief: FloatArray
    duty: FloatArray


@dataclass(frozen=True)
class Bouts:
    """Per window, the activity bout it belongs to (set by `risk.bouts.BoutTracker`).

    `activity`: 0 not stepping, 1 walking, 2 running, 3 a machine (elliptical, stair machine);
    `bout`: a number that changes whenever a new bout starts; `steady`: the window is in the
    bout's steady part (after its settle time), where a baseline may be taken.
    """

    activity: npt.NDArray[np.int8]
    bout: npt.NDArray[np.int64]
    steady: BoolArray


@dataclass(frozen=True)
class WindowBatch:
    """`m` consecutive windows of one foot; `t_end_s` is when each window's result is final.

    `table` holds every statistic as a (pads, m) array, rows in the order of `pad_ids`;
    `pads` gives the same per pad.
    """

    foot: Foot
    t_start_s: FloatArray
    t_end_s: FloatArray
    pad_ids: tuple[str, ...]
    table: PadWindows
    # The raw samples behind the windows, (pads, m, samples per window), NaN-padded: the
    # plausibility checks (risk/plausibility.py) read what a foot can and cannot do in them.
    samples_kpa: FloatArray | None = None
    sample_rate_hz: float | None = None
    gait: GaitWindows | None = None
    bouts: Bouts | None = None

    @cached_property
    def pads(self) -> dict[str, PadWindows]:
        return {pad: self.table.row(i) for i, pad in enumerate(self.pad_ids)}

    def __len__(self) -> int:
        return len(self.t_end_s)


def filled(values: FloatArray, value: float) -> FloatArray:
    """`values` with NaN replaced by `value` (np.nan_to_num without its per-call overhead)."""
    return np.where(np.isnan(values), value, values)


def pick(values: FloatArray, row: npt.NDArray[np.intp]) -> FloatArray:
    """Per column j, `values[row[j], j]`."""
    return values[row, np.arange(values.shape[1])]


def pad_statistics(
    samples_kpa: FloatArray, saturation_kpa: float, min_kpa: float, max_kpa: float
) -> PadWindows:
    """Statistics along the last axis of a (..., windows, samples) array; NaN samples ignored."""
    valid = ~np.isnan(samples_kpa)
    count = valid.sum(axis=-1)
    has_data = count > 0
    safe_count = np.maximum(count, 1)
    zeroed = np.where(valid, samples_kpa, 0.0)
    # NaN sorts last, so the valid samples of each row come first.
    ordered = np.sort(samples_kpa, axis=-1)
    p10_index = np.floor(0.1 * (safe_count - 1)).astype(np.int64)

    def at(index: npt.NDArray[np.int64]) -> FloatArray:
        picked = np.take_along_axis(ordered, index[..., None], -1)[..., 0]
        return np.where(has_data, picked, np.nan)

    # Range within each half of the window: a load that cycles at >= ~0.5 Hz swings fully in
    # both halves; a slow weight shift while standing does not.
    n = samples_kpa.shape[-1]
    halves = samples_kpa[..., : n // 2 * 2].reshape(*samples_kpa.shape[:-1], 2, n // 2)
    half_ranges = np.fmax.reduce(halves, axis=-1) - np.fmin.reduce(halves, axis=-1)
    low = np.where(has_data, ordered[..., 0], np.nan)
    high = at(safe_count - 1)
    return PadWindows(
        valid_fraction=count / samples_kpa.shape[-1],
        mean_kpa=np.where(has_data, zeroed.sum(axis=-1) / safe_count, np.nan),
        min_kpa=np.where(has_data, ordered[..., 0], np.nan),
        max_kpa=at(safe_count - 1),
        p10_kpa=at(p10_index),
        saturated_fraction=np.where(
            has_data, (zeroed >= saturation_kpa).sum(axis=-1) / safe_count, 0.0
        ),
        below_min_count=(zeroed < min_kpa).sum(axis=-1).astype(np.float64),
        above_max_count=(zeroed > max_kpa).sum(axis=-1).astype(np.float64),
        half_range_kpa=np.fmin.reduce(half_ranges, axis=-1),
        step_peak_kpa=step_peaks(samples_kpa, low, high),
    )


def step_peaks(samples_kpa: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """Mean peak of the loading cycles along the last axis of a (..., windows, samples) array.

    A cycle is a run of samples above the middle of the window's range; runs cut by the window's
    edges are left out (their peak may lie outside), unless no whole run is inside, when the
    window maximum stands in. Thresholds quoted per step (450 kPa is mean + 2 SD of per-step
    peaks) are compared with this, not with the window maximum, the top of ~3 steps, which
    is biased upward.
    """
    shape = samples_kpa.shape
    n = shape[-1]
    rows = samples_kpa.reshape(-1, n)
    middle = (low + 0.5 * (high - low)).reshape(-1, 1)
    above = rows > np.where(np.isnan(middle), np.inf, middle)  # NaN samples count as below
    starts = above.copy()
    starts[:, 1:] &= ~above[:, :-1]
    ends = above.copy()
    ends[:, :-1] &= ~above[:, 1:]
    start_index = np.flatnonzero(starts)
    out = high.reshape(-1).copy()
    if len(start_index) == 0:
        return out.reshape(shape[:-1])
    values = np.where(above, rows, -np.inf).reshape(-1)
    run_peak = np.maximum.reduceat(values, start_index)
    end_index = np.flatnonzero(ends)  # one end per start, in the same order
    row_of = start_index // n
    whole = (start_index % n != 0) & (end_index % n != n - 1)
    count = np.bincount(row_of[whole], minlength=len(out))
    total = np.bincount(row_of[whole], weights=run_peak[whole], minlength=len(out))
    inside = count > 0
    out[inside] = total[inside] / count[inside]
    return out.reshape(shape[:-1])


def gait_statistics(
    samples_kpa: FloatArray,
    plantar_rows: list[int],
    saturation_kpa: float,
    min_kpa: float,
    max_kpa: float,
) -> GaitWindows:
    """`GaitWindows` of a (pads, windows, samples) block, from the rows of the plantar pads.
    Samples at full scale or outside the plausible range are left out of the load (a shorted
    pad would otherwise hide the relief of the others)."""
    if not plantar_rows:
        empty = np.full(samples_kpa.shape[1], np.nan)
        return GaitWindows(relief=empty, duty=empty.copy())
    part = samples_kpa[plantar_rows]
    part = np.where((part >= saturation_kpa) | (part < min_kpa) | (part > max_kpa), np.nan, part)
    load = np.where(np.isnan(part).all(axis=0), np.nan, np.nansum(part, axis=0))  # (m, n)
    n = load.shape[-1]
    halves = load[:, : n // 2 * 2].reshape(load.shape[0], 2, n // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.fmax.reduce(halves, axis=-1)
        drop = (top - np.fmin.reduce(halves, axis=-1)) / np.where(top > 0, top, np.nan)
        relief = np.fmin.reduce(drop, axis=-1)
        low = np.fmin.reduce(load, axis=-1)
        high = np.fmax.reduce(load, axis=-1)
        level = (low + 0.15 * (high - low))[:, None]
        valid = ~np.isnan(load)
        duty = (load > level).sum(axis=-1) / np.maximum(valid.sum(axis=-1), 1)
    duty = np.where(valid.any(axis=-1) & (high > low), duty, np.nan)
    return GaitWindows(relief=relief, duty=duty)


class FootWindower:
    """Cuts one foot's chunk stream into windows of `window_s` and computes their statistics."""

    def __init__(
        self,
        foot: Foot,
        window_s: float,
        *,
        saturation_kpa: float,
        min_kpa: float,
        max_kpa: float,
    ) -> None:
        self.foot: Foot = foot
        self.window_s = window_s
        self._limits = (saturation_kpa, min_kpa, max_kpa)
        self.sample_rate_hz: float | None = None
        self.pads: tuple[str, ...] | None = None
        self._samples_per_window = 0
        self._t_parts: list[FloatArray] = []
        self._p_parts: list[FloatArray] = []  # (pads, samples) blocks
        self._buffered = 0
        self.last_t_s: float | None = None

    def _start(self, chunk: PressureChunk) -> None:
        if not chunk.sample_rate_hz > 0:
            raise BadChunk(
                f"{chunk.foot} chunk has no usable sample rate",
                expected="sample_rate_hz > 0",
                got=repr(chunk.sample_rate_hz),
                foot=chunk.foot,
                what="sample_rate_hz",
            )
        self.sample_rate_hz = chunk.sample_rate_hz
        self.pads = tuple(chunk.pressure_kpa)
        self._samples_per_window = max(1, round(self.window_s * chunk.sample_rate_hz))

    def _check(self, chunk: PressureChunk) -> None:
        if tuple(chunk.pressure_kpa) != self.pads:
            raise BadChunk(
                f"{chunk.foot} chunk pads changed mid-session",
                expected=", ".join(self.pads or ()),
                got=", ".join(chunk.pressure_kpa),
                foot=chunk.foot,
                what="pads",
            )
        for pad, values in chunk.pressure_kpa.items():
            if values.shape != chunk.t_s.shape:
                raise BadChunk(
                    f"{chunk.foot}.{pad}: {values.shape[0]} samples for {len(chunk.t_s)} times",
                    expected="one pressure per time",
                    got=f"{values.shape[0]} values",
                    foot=chunk.foot,
                    what="pressure_kpa",
                )
        if len(chunk.t_s) and self.last_t_s is not None and chunk.t_s[0] <= self.last_t_s:
            raise BadChunk(
                f"{chunk.foot} chunk goes back in time",
                expected=f"t_s after {self.last_t_s:.3f}",
                got=f"{chunk.t_s[0]:.3f}",
                foot=chunk.foot,
                what="t_s",
            )

    def feed(self, chunk: PressureChunk) -> WindowBatch | None:
        """Take a chunk; return the windows it completed, if any."""
        if self.pads is None:
            self._start(chunk)
        self._check(chunk)
        if len(chunk.t_s) == 0:
            return None
        self.last_t_s = float(chunk.t_s[-1])
        self._t_parts.append(np.asarray(chunk.t_s, dtype=np.float64))
        pressures = [np.asarray(v, dtype=np.float64) for v in chunk.pressure_kpa.values()]
        self._p_parts.append(np.vstack(pressures) if pressures else np.empty((0, len(chunk.t_s))))
        self._buffered += len(chunk.t_s)
        if self._buffered < self._samples_per_window:
            return None
        return self._cut(final=False)

    def flush(self) -> WindowBatch | None:
        """At the end: the last, partial window (if it holds at least half a window)."""
        if self.pads is None or self._buffered * 2 < self._samples_per_window:
            return None
        return self._cut(final=True)

    def _cut(self, *, final: bool) -> WindowBatch:
        n = self._samples_per_window
        t_all = np.concatenate(self._t_parts)
        p_all = np.concatenate(self._p_parts, axis=1)
        take = len(t_all) if final else len(t_all) // n * n
        rows = -(-take // n)
        padded = rows * n
        t_windows = np.full(padded, np.nan)
        t_windows[:take] = t_all[:take]
        block = np.full((p_all.shape[0], padded), np.nan)
        block[:, :take] = p_all[:, :take]
        samples = block.reshape(p_all.shape[0], rows, n)
        table = pad_statistics(samples, *self._limits)
        plantar = [i for i, pad in enumerate(self.pads or ()) if pad in PLANTAR_PADS]
        self._t_parts = [t_all[take:]]
        self._p_parts = [p_all[:, take:]]
        self._buffered = len(t_all) - take
        period_s = 1.0 / (self.sample_rate_hz or 1.0)
        # A window ends one period after its last sample (a jump in time stays inside it).
        last_s = np.fmax.reduce(t_windows.reshape(rows, n), axis=1)
        return WindowBatch(
            foot=self.foot,
            t_start_s=t_windows[::n],
            t_end_s=last_s + period_s,
            pad_ids=self.pads or (),
            table=table,
            samples_kpa=samples,
            sample_rate_hz=self.sample_rate_hz,
            gait=gait_statistics(samples, plantar, *self._limits),
        )


def stacked(batch: WindowBatch, pads: tuple[str, ...], statistic: str) -> FloatArray:
    """A (len(pads), windows) array of one statistic; rows for absent pads are NaN."""
    table: FloatArray = getattr(batch.table, statistic)
    rows = [batch.pad_ids.index(pad) if pad in batch.pad_ids else -1 for pad in pads]
    if -1 not in rows:
        return table[rows]
    out = np.full((len(pads), len(batch)), np.nan)
    for i, row in enumerate(rows):
        if row >= 0:
            out[i] = table[row]
    return out


def top_of(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Per column: the largest finite value (NaN if none) and its row."""
    if values.shape[0] == 0:
        return np.full(values.shape[1], np.nan), np.zeros(values.shape[1], dtype=np.intp)
    filled = np.where(np.isnan(values), -np.inf, values)
    row = np.argmax(filled, axis=0)
    top = pick(values, row)
    return top, row


def cyclic_loading(
    batch: WindowBatch, forefoot_pads: tuple[str, ...], range_kpa: float
) -> BoolArray:
    """Windows where some forefoot pad loads and unloads by at least `range_kpa` in each half of
    the window (a cycle, not a slow weight shift)."""
    top, _ = top_of(stacked(batch, forefoot_pads, "half_range_kpa"))
    return filled(top, 0.0) >= range_kpa


def stepping(batch: WindowBatch, min_relief: float) -> BoolArray:
    """Windows with steps: the foot's summed plantar load drops by `min_relief` of its peak in
    each half of the window, so a cycle of stance and swing (or pedal push and recovery) takes
    at most ~2 s. Calf raises and weight shifts keep the body weight on the foot and do not.
    A batch without gait statistics (no plantar pad) counts as stepping."""
    if batch.gait is None:
        return np.ones(len(batch), dtype=bool)
    return filled(batch.gait.relief, 0.0) >= min_relief


def machine_paced(
    batch: WindowBatch, periods_s: FloatArray, max_relief: float, max_cycle_s: float
) -> BoolArray:
    """Windows that either step off the load (relief at least `max_relief`: walking, running)
    or cycle at a machine's pace (forefoot cycles at most `max_cycle_s` apart, per window in
    `periods_s`, from `risk/cycles.py`): calf raises on the spot are slower than any
    elliptical. A batch without gait statistics counts as paced."""
    if batch.gait is None:
        return np.ones(len(batch), dtype=bool)
    steps_off = filled(batch.gait.relief, 0.0) >= max_relief
    return steps_off | (filled(periods_s, np.inf) <= max_cycle_s)
