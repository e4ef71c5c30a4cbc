"""Foot contacts and per-step metrics from the plantar pads of one foot, streaming.

The detector sums whatever plantar pads the insole has (heel + forefoot, or forefoot only)
into one load signal and runs a hysteresis state machine on it:

- **Adaptive thresholds.** Samples are processed in fixed blocks of `block_s`. Per block a
  robust low (2nd percentile) and high (98th percentile) are taken; the floor of the signal is
  the lowest low and the top the highest high of the last `window_s`. The range (top - floor)
  decays with a half-life of `range_half_life_s` when the foot stops moving, so a pause does
  not shrink the thresholds into noise; below `min_range_kpa` nothing is detected. A contact
  starts when the load exceeds ``floor + on_fraction * range`` and ends when it falls to
  ``floor + off_fraction * range``, and counts only if the load reached
  ``floor + peak_fraction * range`` (a foot strike, not a twitch). The onset is backdated
  to where the load last left its own swing floor (the lowest load since the last contact,
  within 0.8 s) by ``onset_fraction * range``, interpolated between samples: the first
  touch, even when the unloaded reading drifts above the stream's floor. The end is carried
  forward the same way, to where the load comes down to the floor it ends on (the lowest
  load in the 0.1 s after the off level, before the next onset) + ``onset_fraction * range``:
  the off level alone cuts the push-off short (real treadmill running: contact times 6-10%
  short), and a sensor that recovers slowly after toe-off does not stretch the contact.
- **Durations.** A dip shorter than `min_swing_s` (from the end to the next onset) does not
  split a contact; contacts shorter than `min_contact_s` are noise; contacts longer than
  `max_contact_s` are standing, not steps. A stride longer than `max_stride_s` is a pause:
  the next step has no stride time. A step is reported once no later onset can merge with
  it, `min_swing_s` + 0.8 s after its end at most (plus up to one block of input).
- **Gaps.** Missing samples (NaN), and readings outside `min_plausible_kpa` to
  `max_plausible_kpa`, hold the last value of each pad; when every plantar pad is missing
  the state machine holds its state. A gap longer than `max_gap_s` (missing samples
  or a jump in time) drops the contact it cuts and restarts the stride chain.

Blocks are cut by sample count, so the output does not depend on how the input is chunked.
Memory is bounded: a history of `max_stride_s + max_contact_s` plus a few blocks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from numbguard.errors import BadChunk, BadValue
from numbguard.pads import FOREFOOT_PADS, LACE_PADS, PAD_IDS, PLANTAR_PADS, Foot
from numbguard.types import Contact, FloatArray, PressureChunk, StepMetrics

IntArray = npt.NDArray[np.int64]
_History = tuple[FloatArray, FloatArray, FloatArray]  # t_s, pad values (pads x samples), load

# Fewer ranges than this (a live chunk's steps) are grouped by length in Python, more in numpy.
_FEW_RANGES = 32
_LOW_PERCENTILE = 0.02
_HIGH_PERCENTILE = 0.98
_SWING_FLOOR_S = 0.8  # look-back for the swing floor under an onset
# Look-ahead for the floor a contact ends on: the shortest swing. Further on, a sensor that
# recovers slowly (an FSR reads a plateau of 5-10% of the peak for 0.2-0.4 s after toe-off,
# gaitndd) has crept lower than the foot's toe-off.
_END_FLOOR_S = 0.1


def contact_of(step: StepMetrics) -> Contact:
    """The contact a step was measured on."""
    return Contact(foot=step.foot, t_on_s=step.t_on_s, t_off_s=step.t_off_s)


@dataclass(slots=True)
class _Open:
    """A contact whose onset is known and whose end is not yet (or not yet final)."""

    t_on_s: float
    valid: bool
    peak_level_kpa: float  # the load must reach this for the contact to count
    rise_kpa: float  # how far above its swing floor the load counts as touching
    t_off_s: float = float("nan")  # where the load fell to the off level
    end_by_s: float = float("inf")  # the next onset: the end lies before it


# An event of the state machine: (global sample index where it becomes known, kind: rise,
# fall, gap or gap_end, time, and for a rise: the global index of the last sample at the off
# level before it, the peak level and the rise level). Plain tuples, made by zip: tens of
# thousands an hour.
_Event = tuple[int, str, float, int, float, float]
_NAN = float("nan")


class ContactDetector:
    """Streaming contact detector and step metrics for one foot.

    Feed `PressureChunk`s of one foot in time order to `update`; each call returns the steps
    that became final. `finish` flushes the end of the stream. The pads present in the first
    chunk are the insole's pads; at least one plantar pad is required.
    """

    def __init__(
        self,
        foot: Foot,
        *,
        on_fraction: float = 0.25,
        onset_fraction: float = 0.04,
        peak_fraction: float = 0.3,
        off_fraction: float = 0.15,
        min_contact_s: float = 0.12,
        min_swing_s: float = 0.1,
        max_contact_s: float = 3.0,
        max_stride_s: float = 4.0,
        window_s: float = 5.0,
        block_s: float = 1.0,
        min_range_kpa: float = 50.0,
        range_half_life_s: float = 30.0,
        max_gap_s: float = 0.25,
        min_plausible_kpa: float = -20.0,
        max_plausible_kpa: float = 1500.0,
    ) -> None:
        if not (0 < off_fraction < on_fraction <= peak_fraction < 1 and 0 < onset_fraction < 1):
            raise BadValue(
                "bad thresholds",
                expected="0 < off < on <= peak < 1 and 0 < onset < 1 (fractions)",
                got=f"off_fraction={off_fraction}, on_fraction={on_fraction}, "
                f"peak_fraction={peak_fraction}, onset_fraction={onset_fraction}",
                name="off_fraction, on_fraction, peak_fraction, onset_fraction",
            )
        for name, value in (
            ("min_contact_s", min_contact_s),
            ("min_swing_s", min_swing_s),
            ("max_contact_s", max_contact_s),
            ("max_stride_s", max_stride_s),
            ("window_s", window_s),
            ("block_s", block_s),
            ("min_range_kpa", min_range_kpa),
            ("range_half_life_s", range_half_life_s),
            ("max_gap_s", max_gap_s),
        ):
            if not (value > 0 and np.isfinite(value)):
                raise BadValue(
                    f"bad {name}", expected="a positive number", got=repr(value), name=name
                )
        self.foot: Foot = foot
        self.on_fraction = on_fraction
        self.onset_fraction = onset_fraction
        self.peak_fraction = peak_fraction
        self.off_fraction = off_fraction
        self.min_contact_s = min_contact_s
        self.min_swing_s = min_swing_s
        self.max_contact_s = max_contact_s
        self.max_stride_s = max_stride_s
        self.window_s = window_s
        self.block_s = block_s
        self.min_range_kpa = min_range_kpa
        self.range_half_life_s = range_half_life_s
        self.max_gap_s = max_gap_s
        self.min_plausible_kpa = min_plausible_kpa
        self.max_plausible_kpa = max_plausible_kpa
        # Set by the first chunk.
        self.pads_: tuple[str, ...] = ()
        self.sample_rate_hz_: float = 0.0
        self.n_steps_ = 0
        self._plantar_rows: IntArray = np.zeros(0, dtype=np.int64)
        self._swing_rows: IntArray = np.zeros(0, dtype=np.int64)  # lace and forefoot pads
        # Per row: (row, pad, is a lace pad), and per swing row (pad, is a lace pad): looked up
        # once, not per step.
        self._pad_rows: list[tuple[int, str, bool]] = []
        self._swing_pads: list[tuple[str, bool]] = []
        self._block_n = 0
        self._window_blocks = 0
        self._max_gap_n = 0
        self._floor_n = 0
        self._history_n = 0
        # Input not yet processed.
        self._pending_t: list[FloatArray] = []
        self._pending_p: list[FloatArray] = []
        self._pending_n = 0
        self._last_t_s = float("-inf")
        # Carried between blocks.
        self._n_done = 0  # global index of the next sample to process
        self._hist_t: FloatArray = np.zeros(0)
        self._hist_p: FloatArray = np.zeros((0, 0))
        self._hist_load: FloatArray = np.zeros(0)
        self._hist_off: FloatArray = np.zeros(0)
        self._last_valid: FloatArray = np.zeros(0)
        self._state = 0  # -1 unloaded, 1 loaded, 0 unknown
        self._last_below = -1  # global index of the last sample at or under the off level
        self._last_fall = -1  # global index of the last end of a loaded state
        self._missing_start = -1  # global index where the current missing run began
        self._block_stats: deque[tuple[float, float]] = deque()
        self._range_kpa = 0.0
        self._open: _Open | None = None
        self._candidate: _Open | None = None
        self._prev: tuple[float, float] | None = None  # (t_on_s, t_off_s) of the last step
        # Contacts that ended for good, in order, not yet measured; None breaks the stride chain.
        self._closed: list[_Open | None] = []
        self._last_gap_end = -1

    # ---- public API -------------------------------------------------------------------

    def update(self, chunk: PressureChunk) -> list[StepMetrics]:
        """Consume one chunk; return the steps that became final."""
        self._accept(chunk)
        steps: list[StepMetrics] = []
        warm = self._n_done > 0 or self._pending_n >= self._window_blocks * self._block_n
        if warm and self._pending_n >= self._block_n:
            usable = self._pending_n - self._pending_n % self._block_n
            steps += self._process(usable)
        return steps

    def finish(self) -> list[StepMetrics]:
        """Process what is left and close the stream; an unfinished contact is dropped."""
        steps: list[StepMetrics] = []
        if self._pending_n:
            steps += self._process(self._pending_n)
        if self._candidate is not None:
            self._closed.append(self._candidate)
            self._candidate = None
        steps += self._finalize((self._hist_t, self._hist_p, self._hist_load))
        self._open = None
        return steps

    # ---- input ------------------------------------------------------------------------

    def _accept(self, chunk: PressureChunk) -> None:
        if chunk.foot != self.foot:
            raise BadChunk(
                "chunk of the wrong foot",
                expected=self.foot,
                got=chunk.foot,
                foot=chunk.foot,
                what="foot",
            )
        t_s = np.asarray(chunk.t_s, dtype=np.float64)
        pads = tuple(pad for pad in PAD_IDS if pad in chunk.pressure_kpa)
        unknown = set(chunk.pressure_kpa) - set(PAD_IDS)
        if unknown:
            raise BadChunk(
                "unknown pad",
                expected="one of " + ", ".join(PAD_IDS),
                got=repr(sorted(unknown)[0]),
                foot=chunk.foot,
                what="pads",
            )
        if not self.pads_:
            self._start(pads, chunk.sample_rate_hz)
        elif pads != self.pads_:
            raise BadChunk(
                "pads changed mid-stream",
                expected=", ".join(self.pads_),
                got=", ".join(pads),
                foot=chunk.foot,
                what="pads",
            )
        elif chunk.sample_rate_hz != self.sample_rate_hz_:
            raise BadChunk(
                "sample rate changed mid-stream",
                expected=f"{self.sample_rate_hz_} Hz",
                got=f"{chunk.sample_rate_hz} Hz",
                foot=chunk.foot,
                what="sample_rate_hz",
            )
        if len(t_s) == 0:
            return
        values = np.empty((len(pads), len(t_s)))
        for row, pad in enumerate(pads):
            column = np.asarray(chunk.pressure_kpa[pad], dtype=np.float64)
            if column.shape != t_s.shape:
                raise BadChunk(
                    f"pad {pad} length differs from t_s",
                    expected=str(len(t_s)),
                    got=str(column.shape),
                    foot=chunk.foot,
                    what="pressure_kpa",
                )
            values[row] = column
        # A reading no pad can make (a glitch, a shorted or open pad) is a missing sample here:
        # it must not make or split a contact. The sensor-fault rule judges the pad itself.
        values[(values < self.min_plausible_kpa) | (values > self.max_plausible_kpa)] = np.nan
        if not np.all(np.isfinite(t_s)) or t_s[0] <= self._last_t_s or np.any(np.diff(t_s) <= 0):
            raise BadChunk(
                "time does not increase",
                expected="finite, strictly increasing t_s across chunks",
                got=f"t_s from {float(t_s[0])!r} after {self._last_t_s!r}",
                foot=chunk.foot,
                what="t_s",
            )
        self._last_t_s = float(t_s[-1])
        self._pending_t.append(t_s)
        self._pending_p.append(values)
        self._pending_n += len(t_s)

    def _start(self, pads: tuple[str, ...], sample_rate_hz: float) -> None:
        plantar = [row for row, pad in enumerate(pads) if pad in PLANTAR_PADS]
        if not plantar:
            raise BadChunk(
                "no plantar pad: contacts cannot be found",
                expected="heel or a ball_* pad",
                got=", ".join(pads) or "no pads",
                foot=self.foot,
                what="pads",
            )
        if not (sample_rate_hz > 0 and np.isfinite(sample_rate_hz)):
            raise BadChunk(
                "bad sample rate",
                expected="a positive rate in Hz",
                got=repr(sample_rate_hz),
                foot=self.foot,
                what="sample_rate_hz",
            )
        self.pads_ = pads
        self.sample_rate_hz_ = float(sample_rate_hz)
        self._plantar_rows = np.asarray(plantar, dtype=np.int64)
        swing_pads = [
            row for row, pad in enumerate(pads) if pad in LACE_PADS or pad in FOREFOOT_PADS
        ]
        self._swing_rows = np.asarray(swing_pads, dtype=np.int64)
        self._pad_rows = [(row, pad, pad in LACE_PADS) for row, pad in enumerate(pads)]
        self._swing_pads = [(pads[row], pads[row] in LACE_PADS) for row in swing_pads]
        self._block_n = max(1, round(self.block_s * sample_rate_hz))
        self._window_blocks = max(1, round(self.window_s / self.block_s))
        self._max_gap_n = max(1, round(self.max_gap_s * sample_rate_hz))
        self._floor_n = round(_SWING_FLOOR_S * sample_rate_hz)
        history_s = self.max_stride_s + self.max_contact_s + self.min_swing_s + 2 * self.block_s
        self._history_n = round(history_s * sample_rate_hz) + 2
        self._hist_p = np.zeros((len(pads), 0))
        self._last_valid = np.full(len(pads), np.nan)

    def _take_pending(self, n: int) -> tuple[FloatArray, FloatArray]:
        t_all = np.concatenate(self._pending_t)
        p_all = np.concatenate(self._pending_p, axis=1)
        self._pending_t = [t_all[n:]] if n < len(t_all) else []
        self._pending_p = [p_all[:, n:]] if n < len(t_all) else []
        self._pending_n = len(t_all) - n
        return t_all[:n], p_all[:, :n]

    # ---- detection --------------------------------------------------------------------

    def _process(self, n: int) -> list[StepMetrics]:
        t_s, raw = self._take_pending(n)
        base = self._n_done
        index = np.arange(n)
        missing = np.all(np.isnan(raw[self._plantar_rows]), axis=0)

        # Hold each pad's last valid value through its missing samples.
        valid = ~np.isnan(raw)
        if valid.all():
            filled = raw  # nothing to hold (the usual case)
        else:
            last_index = np.maximum.accumulate(np.where(valid, index, -1), axis=1)
            filled = np.take_along_axis(raw, np.maximum(last_index, 0), axis=1)
            filled = np.where(last_index >= 0, filled, self._last_valid[:, None])
        self._last_valid = filled[:, -1].copy()
        load = np.nansum(filled[self._plantar_rows], axis=0)

        thr_on, thr_off, thr_peak = self._thresholds(np.where(missing, np.nan, load))

        events = np.zeros(n, dtype=np.int8)
        events[load > thr_on] = 1
        events[load <= thr_off] = -1
        events[missing] = 0
        last_event = np.maximum.accumulate(np.where(events != 0, index, -1))
        state = np.where(last_event >= 0, events[np.maximum(last_event, 0)], self._state).astype(
            np.int8
        )
        before = np.concatenate(([self._state], state[:-1])).astype(np.int8)
        rises = np.flatnonzero((state == 1) & (before == -1))
        falls = np.flatnonzero((state == -1) & (before == 1))
        below = np.maximum.accumulate(np.where(events == -1, index + base, -1))
        below = np.maximum(below, self._last_below)

        # Combined history + new samples, for onset backtracking and step metrics.
        all_t = np.concatenate((self._hist_t, t_s))
        all_load = np.concatenate((self._hist_load, load))
        all_off = np.concatenate((self._hist_off, thr_off))
        all_p = np.concatenate((self._hist_p, raw), axis=1)
        offset = base - len(self._hist_t)  # global index of all_*[0]
        history = (all_t, all_p, all_load)

        onset_index = below[rises]
        known = (onset_index >= 0) & (onset_index - offset >= 0)  # else the stream began loaded
        rise_s = t_s[rises]  # the rise itself where the stream began loaded
        rise_s[known] = self._rise_onsets(
            rises[known], onset_index[known], falls, (thr_on, thr_off), history, base
        )
        queue: list[_Event] = list(
            zip(
                (base + rises).tolist(),
                repeat("rise"),
                rise_s.tolist(),
                np.where(known, onset_index, -1).tolist(),
                thr_peak[rises].tolist(),
                self._rise_kpa(thr_on[rises], thr_off[rises]).tolist(),
            )
        )
        if len(falls):
            before_fall = base + falls - offset - 1  # the sample before each fall, in all_*
            levels = all_off[np.minimum(before_fall + 1, len(all_off) - 1)]
            fall_s = _interpolate_many(all_t, all_load, before_fall, levels)
            fall_at: list[int] = (base + falls).tolist()
            queue += zip(fall_at, repeat("fall"), fall_s, repeat(-1), repeat(_NAN), repeat(_NAN))
        gap_events = self._gap_events(missing, t_s, base)
        if gap_events:
            queue += gap_events
            queue.sort(key=lambda event: (event[0], event[1] != "gap_end"))
        else:  # rises and falls never share a sample
            queue.sort(key=itemgetter(0))

        for event in queue:
            self._apply(event)
        # An onset is backdated at most `_SWING_FLOOR_S` before its rise: once the contact
        # ended longer ago than that plus `min_swing_s`, no later onset can merge with it.
        final_after_s = self.min_swing_s + _SWING_FLOOR_S
        if self._candidate is not None and t_s[-1] - self._candidate.t_off_s >= final_after_s:
            self._closed.append(self._candidate)
            self._candidate = None
        steps = self._finalize(history)

        self._state = int(state[-1])
        self._last_below = int(below[-1])
        if len(falls):
            self._last_fall = base + int(falls[-1])
        self._n_done = base + n
        keep = self._history_n
        self._hist_t, self._hist_p = all_t[-keep:], all_p[:, -keep:]
        self._hist_load, self._hist_off = all_load[-keep:], all_off[-keep:]
        return steps

    def _rise_onsets(
        self,
        rises: IntArray,
        onset_index: IntArray,
        falls: IntArray,
        levels: tuple[FloatArray, FloatArray],
        history: _History,
        base: int,
    ) -> list[float]:
        """Backdated onset times of rises whose last sample at the off level is known."""
        if not len(rises):
            return []
        all_t, _, all_load = history
        thr_on, thr_off = levels
        offset = base - (len(all_t) - len(thr_on))  # global index of all_t[0]
        rise_kpa = self._rise_kpa(thr_on[rises], thr_off[rises])
        stops = base + rises - offset
        # The swing floor: after the last fall, at most a swing's length back.
        fall_before = np.concatenate(([self._last_fall], base + falls))
        last_fall = fall_before[np.searchsorted(falls, rises)]
        starts = np.maximum(
            np.maximum(0, last_fall - offset),
            np.minimum(onset_index - offset, stops - self._floor_n),
        )
        return _onsets(all_t, all_load, starts, stops, rise_kpa)

    def _rise_kpa(self, thr_on: FloatArray, thr_off: FloatArray) -> FloatArray:
        """`onset_fraction` of the range, from the on and off levels."""
        return self.onset_fraction * (thr_on - thr_off) / (self.on_fraction - self.off_fraction)

    def _thresholds(self, load: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per-sample on, off and peak levels from the floor and range of the recent blocks."""
        n = len(load)
        bn = self._block_n
        n_blocks = -(-n // bn)
        padded = np.full(n_blocks * bn, np.nan)
        padded[:n] = load
        blocks = np.sort(padded.reshape(n_blocks, bn), axis=1)  # NaN sorts last
        counts = np.sum(~np.isnan(blocks), axis=1)
        rows = np.arange(n_blocks)
        low_at = np.floor(_LOW_PERCENTILE * np.maximum(counts - 1, 0)).astype(np.int64)
        high_at = np.ceil(_HIGH_PERCENTILE * np.maximum(counts - 1, 0)).astype(np.int64)
        lows = np.where(counts > 0, blocks[rows, low_at], np.nan)
        highs = np.where(counts > 0, blocks[rows, high_at], np.nan)
        w = self._window_blocks
        if not self._block_stats:
            # First blocks of the stream: let them see the whole first window.
            self._block_stats.extend(zip(lows[1:w].tolist(), highs[1:w].tolist(), strict=True))
        previous = list(self._block_stats)[-(w - 1) :] if w > 1 else []
        all_lows = np.concatenate(([s[0] for s in previous], lows))
        all_highs = np.concatenate(([s[1] for s in previous], highs))
        # Floor and top of each block's window (the last `w` blocks), all blocks at once;
        # NaN in front stands for blocks before the stream (fmin/fmax skip NaN).
        pad = np.full(max(0, w - 1 - len(previous)), np.nan)
        padded_lows, padded_highs = (np.concatenate((pad, v)) for v in (all_lows, all_highs))
        # Row i: the block i back of each block's window (w rows, one column per block).
        floors = np.fmin.reduce(np.array([padded_lows[i : i + n_blocks] for i in range(w)]))
        tops = np.fmax.reduce(np.array([padded_highs[i : i + n_blocks] for i in range(w)]))
        with np.errstate(invalid="ignore"):
            spreads = tops - floors
        spreads[~np.isfinite(spreads)] = 0.0
        decay = 0.5 ** (self.block_s / self.range_half_life_s)
        level_ranges = np.empty(n_blocks)
        for b, spread in enumerate(spreads.tolist()):  # the range decays block by block
            self._range_kpa = max(spread, self._range_kpa * decay)
            # Too little swing in the load (standing, noise, no insole on): hold the state.
            level_ranges[b] = self._range_kpa if self._range_kpa >= self.min_range_kpa else np.nan
        on_levels = floors + self.on_fraction * level_ranges
        off_levels = floors + self.off_fraction * level_ranges
        peak_levels = floors + self.peak_fraction * level_ranges
        self._block_stats.extend(zip(lows.tolist(), highs.tolist(), strict=True))
        while len(self._block_stats) > max(w - 1, 0):
            self._block_stats.popleft()
        on, off, peak = (
            np.repeat(levels, bn)[:n] for levels in (on_levels, off_levels, peak_levels)
        )
        return on, off, peak

    def _gap_events(
        self, missing: npt.NDArray[np.bool_], t_s: FloatArray, base: int
    ) -> list[_Event]:
        """Events for missing runs longer than `max_gap_s` and for jumps in time."""
        events: list[_Event] = []
        previous_t = self._hist_t[-1] if len(self._hist_t) else None
        steps_s = np.diff(t_s, prepend=t_s[0] if previous_t is None else previous_t)
        for i in np.flatnonzero(steps_s > self.max_gap_s):
            events.append((base + int(i), "gap", _NAN, -1, _NAN, _NAN))
            events.append((base + int(i), "gap_end", _NAN, -1, _NAN, _NAN))
        flags = missing.astype(np.int8)
        before = np.concatenate(([1 if self._missing_start >= 0 else 0], flags[:-1]))
        starts = (np.flatnonzero((flags == 1) & (before == 0)) + base).tolist()
        ends = (np.flatnonzero((flags == 0) & (before == 1)) + base).tolist()
        if self._missing_start >= 0:
            starts.insert(0, self._missing_start)
        for position, start in enumerate(starts):
            end = ends[position] if position < len(ends) else None
            stop = end if end is not None else base + len(missing)
            if stop - start > self._max_gap_n:
                events.append((start + self._max_gap_n, "gap", _NAN, -1, _NAN, _NAN))
                if end is not None:
                    events.append((end, "gap_end", _NAN, -1, _NAN, _NAN))
        self._missing_start = starts[-1] if len(starts) > len(ends) else -1
        return events

    # ---- contact assembly -------------------------------------------------------------

    def _apply(self, event: _Event) -> None:
        at, kind, t_s, onset_index, peak_level_kpa, rise_kpa = event
        candidate = self._candidate
        if kind == "rise":
            # An onset before the end of a long gap is not known.
            valid = onset_index >= max(0, self._last_gap_end)
            if candidate is not None and t_s - candidate.t_off_s < self.min_swing_s:
                self._open = _Open(
                    candidate.t_on_s,
                    candidate.valid and valid,
                    candidate.peak_level_kpa,
                    candidate.rise_kpa,
                )  # a dip, not a swing
            else:
                if candidate is not None:
                    candidate.end_by_s = t_s
                    self._closed.append(candidate)
                self._open = _Open(t_s, valid, peak_level_kpa, rise_kpa)
            self._candidate = None
        elif kind == "fall":
            if self._open is not None:
                self._open.t_off_s = t_s
                self._candidate, self._open = self._open, None
        elif kind == "gap":
            if candidate is not None:
                candidate.end_by_s = candidate.t_off_s  # what follows is held, not measured
                self._closed.append(candidate)
            self._closed.append(None)
            self._candidate = self._open = None
        else:  # gap_end
            self._last_gap_end = at

    def _finalize(self, history: _History) -> list[StepMetrics]:
        """The steps among the closed contacts, all measured at once on `history`."""
        if not self._closed:
            return []
        closed = [contact for contact in self._closed if contact is not None]
        t_all, _, load = history
        on_s = np.array([contact.t_on_s for contact in closed])
        ends_s = self._ends(closed, t_all, load)
        # The load must reach the contact's peak level between onset and end.
        peaks_kpa = _range_max(load[None, :], *np.searchsorted(t_all, (on_s, ends_s)))[0]
        peaks = peaks_kpa.tolist()
        ends = ends_s.tolist()
        steps: list[_Step] = []
        position = 0
        for contact in self._closed:
            if contact is None:  # a long gap
                self._prev = None
                continue
            peak_kpa, off = peaks[position], ends[position]
            position += 1
            on = contact.t_on_s
            if not contact.valid or off - on > self.max_contact_s:
                self._prev = None
                continue
            if off - on < self.min_contact_s or not peak_kpa >= contact.peak_level_kpa:
                continue  # a blip, not a step
            stride_from: tuple[float, float] | None = None
            if self._prev is not None and on - self._prev[0] <= self.max_stride_s:
                stride_from = self._prev
            steps.append(_Step(on, off, stride_from))
            self._prev = (on, off)
        self._closed = []
        self.n_steps_ += len(steps)
        return self._metrics(steps, history) if steps else []

    def _ends(self, closed: list[_Open], t_all: FloatArray, load: FloatArray) -> FloatArray:
        """Where each contact's load came down to the floor it ends on + `rise_kpa`, as the
        onset left its swing floor: the first crossing after the off level, the floor being
        the lowest load from there to `_END_FLOOR_S` later (or the next onset). The off level
        alone ends a contact while the foot still pushes off (real running: 15-25 ms early)."""
        off_s = np.array([contact.t_off_s for contact in closed])
        by_s = np.minimum([contact.end_by_s for contact in closed], off_s + _END_FLOOR_S)
        rise_kpa = np.array([contact.rise_kpa for contact in closed])
        starts = np.searchsorted(t_all, off_s)
        stops = np.maximum(np.searchsorted(t_all, by_s, side="right"), starts)
        # Per contact: the first sample at the end level, and that level (NaN: keep off_s).
        first = np.zeros(len(closed), dtype=np.int64)
        levels = np.full(len(closed), np.nan)
        for which, index in _length_groups(starts, stops):
            segment = load[index]
            levels[which] = segment.min(axis=1) + rise_kpa[which]
            first[which] = index[:, 0] + np.argmax(segment <= levels[which, None], axis=1)
        moved = np.isfinite(levels) & (first > 0)
        ends = off_s.copy()
        crossing_s = _crossing_times(t_all, load, first[moved] - 1, levels[moved])
        ends[moved] = np.maximum(off_s[moved], crossing_s)
        return ends

    def _metrics(self, steps: list[_Step], history: _History) -> list[StepMetrics]:
        """Per-step metrics of every step at once: per-step numpy calls would dominate.

        Every number is the float64 operation the step-by-step definition does (the same
        operands in the same order), only done for all steps in one numpy call."""
        t_all, p_all, _ = history
        on_s = np.array([step.t_on_s for step in steps])
        off_s = np.array([step.t_off_s for step in steps])
        stance = np.searchsorted(t_all, (on_s, off_s), side="right")
        counts, means, peaks = _range_stats(p_all, stance[0], stance[1])  # pads x steps
        contact_s = off_s - on_s
        measured = counts > 0  # a pad without any sample in the contact has no metrics
        pti = means * contact_s
        shares, indices = self._plantar_shares(pti, measured)
        # The swing before each step with a stride: from the previous step's end to the
        # onset; per swing pad its median (NaN: no swing, or no sample in it).
        swing_medians = np.full((len(steps), len(self._swing_rows)), np.nan)
        with_swing = [k for k, step in enumerate(steps) if step.stride_from is not None]
        if with_swing and len(self._swing_rows):
            swing_from_s = [step.stride_from[1] for step in steps if step.stride_from is not None]
            swing = np.searchsorted(t_all, np.array((swing_from_s, on_s[with_swing])))
            between = p_all[self._swing_rows]
            swing_medians[with_swing] = _range_medians(between, swing[0], swing[1])
        pads = [pad for _, pad, _ in self._pad_rows]
        lace_rows = [row for row, _, is_lace in self._pad_rows if is_lace]
        swing_laces = [k for k, (_, is_lace) in enumerate(self._swing_pads) if is_lace]
        swing_forefoot = [k for k, (_, is_lace) in enumerate(self._swing_pads) if not is_lace]
        swing_names = [pad for pad, _ in self._swing_pads]
        swing_present = ~np.isnan(swing_medians.T)
        strides_s = [
            None if step.stride_from is None else step.t_on_s - step.stride_from[0]
            for step in steps
        ]
        foot = self.foot
        return [
            StepMetrics(
                foot=foot,
                t_on_s=step.t_on_s,
                t_off_s=step.t_off_s,
                contact_s=contact,
                stride_s=stride_s,
                peak_kpa=peak,
                pti_kpa_s=step_pti,
                forefoot_share=share,
                medial_lateral_index=index,
                dorsal_swing_kpa=dorsal_swing,
                dorsal_stance_kpa=dorsal_stance,
                forefoot_swing_kpa=forefoot_swing,
            )
            for (
                step,
                contact,
                stride_s,
                peak,
                step_pti,
                share,
                index,
                dorsal_swing,
                dorsal_stance,
                forefoot_swing,
            ) in zip(
                steps,
                contact_s.tolist(),
                strides_s,
                _present_dicts(pads, peaks, measured),
                _present_dicts(pads, pti, measured),
                shares,
                indices,
                _present_dicts(
                    [swing_names[k] for k in swing_laces],
                    swing_medians.T[swing_laces],
                    swing_present[swing_laces],
                ),
                _present_dicts(
                    [pads[row] for row in lace_rows], means[lace_rows], measured[lace_rows]
                ),
                _present_dicts(
                    [swing_names[k] for k in swing_forefoot],
                    swing_medians.T[swing_forefoot],
                    swing_present[swing_forefoot],
                ),
                strict=True,
            )
        ]

    def _plantar_shares(
        self, pti: FloatArray, measured: npt.NDArray[np.bool_]
    ) -> tuple[list[float | None], list[float | None]]:
        """Per step: the forefoot share of the plantar pressure-time integral and the
        medial-lateral index of the forefoot (None where a pad is missing or all is 0)."""
        n = pti.shape[1]
        row_of = {pad: row for row, pad, _ in self._pad_rows}

        def pad_pti(pad: str) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
            row = row_of.get(pad)
            if row is None:
                return np.zeros(n), np.zeros(n, dtype=bool)
            return pti[row], measured[row]  # 0.0 where the pad has no sample (mean 0)

        forefoot_pti = np.zeros(n)  # 0.0 + each pad in turn, as a sum() of them
        any_forefoot = np.zeros(n, dtype=bool)
        for pad in FOREFOOT_PADS:
            values, has = pad_pti(pad)
            forefoot_pti = forefoot_pti + values
            any_forefoot |= has
        heel, has_heel = pad_pti("heel")
        medial, has_medial = pad_pti("ball_medial")
        lateral, has_lateral = pad_pti("ball_lateral")
        plantar = forefoot_pti + heel
        total = medial + lateral
        with np.errstate(all="ignore"):
            share = forefoot_pti / plantar
            index = (medial - lateral) / total
        shares = np.where(has_heel & any_forefoot & (plantar > 0), share, np.nan)
        indices = np.where(has_medial & has_lateral & (total > 0), index, np.nan)
        return _none_for_nan(shares), _none_for_nan(indices)


def _present_dicts(
    names: list[str], values: FloatArray, present: npt.NDArray[np.bool_]
) -> list[dict[str, float]]:
    """Per column of `values` (names x columns), a dict of the values `present` marks."""
    rows: list[list[float]] = values.T.tolist()
    if np.logical_and.reduce(present, axis=None):  # the usual case: every value
        # map, not a comprehension with zip(strict=...): this is the detector's hot loop.
        return list(map(dict, map(zip, repeat(names), rows)))
    marks: list[list[bool]] = present.T.tolist()
    return [
        {name: value for name, value, mark in zip(names, row, marked, strict=True) if mark}
        for row, marked in zip(rows, marks, strict=True)
    ]


def _none_for_nan(values: FloatArray) -> list[float | None]:
    return [None if value != value else value for value in values.tolist()]


class _Step(NamedTuple):
    """A contact that counts as a step, and the step before it if that one starts its stride."""

    t_on_s: float
    t_off_s: float
    stride_from: tuple[float, float] | None  # (t_on_s, t_off_s) of the previous step


def _length_groups(starts: IntArray, stops: IntArray) -> Iterator[tuple[IntArray, IntArray]]:
    """Sample ranges [start, stop) grouped by length: per length > 0, which ranges have it (in
    order) and their sample indices (ranges x length), so that each group is one numpy call."""
    lengths = stops - starts
    if len(lengths) < _FEW_RANGES:  # live chunks: grouping in Python costs less
        groups: dict[int, list[int]] = {}
        for position, length in enumerate(lengths.tolist()):
            if length > 0:
                groups.setdefault(length, []).append(position)
        for length, positions in groups.items():
            which = np.array(positions, dtype=np.int64)
            yield which, starts[which, None] + np.arange(length)
        return
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order]
    bounds = np.flatnonzero(np.diff(ordered)) + 1
    for first, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(order)], strict=True):
        length = int(ordered[first])
        if length > 0:
            which = order[first:stop]
            yield which, starts[which, None] + np.arange(length)


def _range_max(values: FloatArray, starts: IntArray, stops: IntArray) -> FloatArray:
    """Per row of `values`, the maximum over each range (-inf for an empty one)."""
    result = np.full((len(values), len(starts)), -np.inf)
    for which, index in _length_groups(starts, stops):
        result[:, which] = values[:, index].max(axis=2)
    return result


def _range_stats(
    values: FloatArray, starts: IntArray, stops: IntArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Per row of `values` and range: the count of samples that are not NaN, their mean and
    their maximum (-inf without any). Ranges of one length are summed together, so each sum
    is the one numpy makes of that range alone (the same rounding)."""
    counts = np.zeros((len(values), len(starts)), dtype=np.int64)
    means = np.zeros((len(values), len(starts)))
    peaks = np.full((len(values), len(starts)), -np.inf)
    for which, index in _length_groups(starts, stops):
        # Contiguous rows, as a plain slice is: numpy sums a strided row in another order.
        during = np.ascontiguousarray(values[:, index])
        valid = ~np.isnan(during)
        counts[:, which] = valid.sum(axis=2)
        sums = np.where(valid, during, 0.0).sum(axis=2)
        means[:, which] = sums / np.maximum(counts[:, which], 1)
        peaks[:, which] = np.where(valid, during, -np.inf).max(axis=2)
    return counts, means, peaks


def _range_medians(values: FloatArray, starts: IntArray, stops: IntArray) -> FloatArray:
    """Per range and row of `values`, the median over the range without NaN (NaN without
    any sample): ranges x rows. Ranges of one length without NaN are sorted together."""
    result = np.full((len(starts), len(values)), np.nan)
    for which, index in _length_groups(starts, stops):
        length = index.shape[1]
        ordered = np.sort(values[:, index], axis=2)  # NaN sorts last
        result[which] = ((ordered[:, :, (length - 1) // 2] + ordered[:, :, length // 2]) / 2.0).T
        has_gap = np.logical_or.reduce(np.isnan(ordered[:, :, -1]), axis=0)
        for k, range_index in zip(which[has_gap].tolist(), index[has_gap], strict=True):
            # Rare: gaps in the swing; per row, without the missing samples.
            for row, samples in enumerate(values[:, range_index]):
                present = samples[~np.isnan(samples)]
                result[k, row] = np.median(present) if len(present) else np.nan
    return result


def _onsets(
    t_s: FloatArray, load: FloatArray, starts: IntArray, stops: IntArray, rise_kpa: FloatArray
) -> list[float]:
    """Where the load last left its own swing floor before each sample of `stops`.

    The floor is the lowest load from `starts` (a swing's length before the rise) on; the
    onset is the last upward crossing of floor + `rise_kpa`, so a baseline that drifts above
    the stream's floor does not pull the onset early.
    """
    last = np.zeros(len(starts), dtype=np.int64)
    levels = np.zeros(len(starts))
    for which, index in _length_groups(starts, stops + 1):
        segment = load[index]
        level = segment.min(axis=1) + rise_kpa[which]
        at_floor = segment <= level[:, None]
        last[which] = index[:, -1] - np.argmax(at_floor[:, ::-1], axis=1)
        levels[which] = level
    return _interpolate_many(t_s, load, last, levels)


def _interpolate(t_s: FloatArray, load: FloatArray, k: int, level: float) -> float:
    """Time where the load crosses `level` between samples k and k+1 (linear)."""
    if k + 1 >= len(t_s) or k < 0:
        return float(t_s[max(0, min(k, len(t_s) - 1))])
    y0, y1 = load[k], load[k + 1]
    fraction = (level - y0) / (y1 - y0) if y1 != y0 else 0.0
    fraction = min(1.0, max(0.0, float(fraction))) if np.isfinite(fraction) else 0.0
    return float(t_s[k] + fraction * (t_s[k + 1] - t_s[k]))


def _interpolate_many(
    t_s: FloatArray, load: FloatArray, k: IntArray, level: FloatArray
) -> list[float]:
    """`_interpolate` of every (k, level) pair at once, with the same arithmetic (float64,
    the same operations in the same order), so each time is the one `_interpolate` gives."""
    result: list[float] = _crossing_times(t_s, load, k, level).tolist()
    return result


def _crossing_times(
    t_s: FloatArray, load: FloatArray, k: IntArray, level: FloatArray
) -> FloatArray:
    """`_interpolate_many` as an array."""
    n = len(t_s)
    inside = (k >= 0) & (k + 1 < n)
    k0 = np.minimum(np.maximum(k, 0), max(n - 1, 0))  # np.clip, without its overhead
    k1 = np.minimum(k0 + 1, n - 1)
    y0, y1 = load[k0], load[k1]
    with np.errstate(all="ignore"):
        fraction = np.where(y1 != y0, (level - y0) / (y1 - y0), 0.0)
    fraction = np.where(np.isfinite(fraction), np.minimum(1.0, np.maximum(0.0, fraction)), 0.0)
    times: FloatArray = np.where(inside, t_s[k0] + fraction * (t_s[k1] - t_s[k0]), t_s[k0])
    return times


class GaitTracker:
    """Contact detectors for both feet: routes each chunk to its foot's `ContactDetector`.

    Keyword arguments are passed to every detector.
    """

    def __init__(self, **detector_options: float) -> None:
        self._options = detector_options
        self.detectors_: dict[Foot, ContactDetector] = {}

    def update(self, chunk: PressureChunk) -> list[StepMetrics]:
        detector = self.detectors_.get(chunk.foot)
        if detector is None:
            detector = self.detectors_[chunk.foot] = ContactDetector(chunk.foot, **self._options)
        return detector.update(chunk)

    def finish(self) -> list[StepMetrics]:
        steps = [step for detector in self.detectors_.values() for step in detector.finish()]
        return sorted(steps, key=lambda step: step.t_off_s)


def detect_steps(chunks: Iterable[PressureChunk], **detector_options: float) -> list[StepMetrics]:
    """All steps of a finite stream of chunks (both feet), in order of contact end."""
    tracker = GaitTracker(**detector_options)
    steps: list[StepMetrics] = []
    for chunk in chunks:
        steps += tracker.update(chunk)
    steps += tracker.finish()
    return sorted(steps, key=lambda step: step.t_off_s)
