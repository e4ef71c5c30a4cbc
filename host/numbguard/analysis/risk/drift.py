"""Sensor drift: re-zero each plantar pad in swing, and track its gain against the body.

FSRs drift: temperature shifts their resistance by -15% to +30%, they creep < 5% per decade
of time under load, and an insole may start untared (brief). Two corrections, applied to the
window statistics of the plantar pads after fault screening, before any rule reads them:

- **Zero.** In a stepping window (every plantar pad that cycles has its 10th percentile at
  most `drift_swing_fraction` of its peak: the foot is in the air for part of it), a pad's
  10th percentile is its swing floor, i.e. its zero. The first stepping window tares every
  plantar pad (an untared floor); afterwards the zero follows a lower floor at once and a
  higher one by at most `drift_zero_rate_kpa_per_min`, up to `drift_zero_max_kpa`. Lace pads
  are never re-zeroed: their swing level is the lace pressure the lacing rule judges.
- **Gain.** Over a stride the vertical force averages body weight at steady effort, so the
  summed mean load of the plantar pads over a minute of stepping is fixed by the body. The
  first minute of stepping is each pad's reference. Each later minute, the part of the total
  that is off its reference (beyond `drift_gain_deadband`) is put down to the pads that moved
  the same way, in proportion to how far each moved: one pad drifting, or all warming
  together, is undone; load moving from pad to pad at the same total (a hotspot, a shift onto
  the forefoot) is not touched. A gain moves at most `drift_gain_rate_per_min` during the
  warm-up and `drift_gain_per_decade` per decade of time after it, within 1 / `drift_gain_max`
  to `drift_gain_max`, so a real rise faster than drift stays seen.

Corrected statistics are (reading - zero) / gain; the fault checks read the raw samples.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np

from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, PadWindows, WindowBatch, filled
from numbguard.pads import PLANTAR_PADS
from numbguard.types import FloatArray

log = logging.getLogger(__name__)


class DriftTracker:
    """Zero and gain of each plantar pad of one foot, carried across batches."""

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        self._config = config
        self._rows = [i for i, pad in enumerate(pads) if pad in PLANTAR_PADS]
        n = len(self._rows)
        self.zero_kpa = np.full(n, np.inf)  # +inf: not tared yet
        self.gain = np.ones(n)
        self.reference_kpa: FloatArray | None = None  # per-pad mean load of the first block
        self._last_block_kpa: FloatArray | None = None  # the previous block, as measured
        self._gain_before = np.ones(n)  # the gains before the previous block's update
        self._block_sum = np.zeros(n)
        self._block_count = 0
        self._block_windows = max(1, round(config.drift_gain_block_s / config.window_s))
        self.stepping_s = 0.0
        self._last_update_s = 0.0

    def stepping(self, table: PadWindows) -> BoolArray:
        """Windows that hold a swing: every plantar pad that cycles goes near zero in them (an
        elliptical's forefoot cycles without unloading; then no floor is a zero)."""
        c = self._config
        rows = self._rows
        cycles = filled(table.range_kpa[rows], 0.0) >= c.active_forefoot_range_kpa
        floor = filled(table.p10_kpa[rows], np.inf)
        unloads = floor <= c.drift_swing_fraction * filled(table.max_kpa[rows], 0.0)
        stepping: BoolArray = np.asarray(cycles.any(axis=0) & (unloads | ~cycles).all(axis=0))
        return stepping

    def correct(self, batch: WindowBatch) -> WindowBatch:
        """The batch with its plantar statistics re-zeroed and divided by the tracked gain."""
        if not self._rows or len(batch) == 0:
            return batch
        c = self._config
        w = batch.table
        rows = self._rows
        stepping = self.stepping(w)
        zero = self._zeros(filled(w.p10_kpa[rows], np.inf), stepping)
        zero = np.where(np.isfinite(zero) & (np.abs(zero) >= c.drift_zero_min_kpa), zero, 0.0)
        gain = self._gains(w.mean_kpa[rows] - zero, stepping)

        def fix(values: FloatArray, offset: bool) -> FloatArray:
            out = values.copy()
            out[rows] = ((values[rows] - zero) if offset else values[rows]) / gain
            return out

        table = replace(
            w,
            mean_kpa=fix(w.mean_kpa, True),
            min_kpa=fix(w.min_kpa, True),
            max_kpa=fix(w.max_kpa, True),
            p10_kpa=fix(w.p10_kpa, True),
            half_range_kpa=fix(w.half_range_kpa, False),
            step_peak_kpa=fix(w.step_peak_kpa, True),  # what the forefoot rules compare
        )
        return replace(batch, table=table)

    def _zeros(self, floors: FloatArray, stepping: BoolArray) -> FloatArray:
        """Per pad and window: z_j = min(floor_j, z_(j-1) + rate * dt, max), in closed form."""
        c = self._config
        usable = stepping[None, :] & np.isfinite(floors)
        step = np.where(usable, c.drift_zero_rate_kpa_per_min * c.window_s / 60.0, 0.0)
        climb = np.cumsum(step, axis=1)
        floor = np.where(usable, floors, np.inf)
        best = np.minimum.accumulate(floor - climb, axis=1)
        followed = np.minimum(best, self.zero_kpa[:, None]) + climb
        zero = np.where(np.isfinite(followed), np.minimum(followed, c.drift_zero_max_kpa), np.inf)
        self.zero_kpa = zero[:, -1].copy()
        return zero

    def _gains(self, loads_kpa: FloatArray, stepping: BoolArray) -> FloatArray:
        """Per pad and window, the gain in force there (updated after each block of stepping)."""
        c = self._config
        eligible = np.flatnonzero(stepping & np.isfinite(loads_kpa).all(axis=0))
        gain = np.repeat(self.gain[:, None], loads_kpa.shape[1], axis=1)
        self.stepping_s += float(stepping.sum()) * c.window_s
        start = 0
        while start < len(eligible):
            take = eligible[start : start + self._block_windows - self._block_count]
            start += len(take)
            self._block_sum += loads_kpa[:, take].sum(axis=1)
            self._block_count += len(take)
            if self._block_count < self._block_windows:
                break
            self._update(self._block_sum / self._block_count)
            self._block_sum[:] = 0.0
            self._block_count = 0
            gain[:, int(take[-1]) + 1 :] = self.gain[:, None]
        return gain

    def _update(self, block_kpa: FloatArray) -> None:
        c = self._config
        block_min = c.drift_gain_block_s / 60.0
        if self.reference_kpa is None:
            self.reference_kpa = block_kpa
            self._last_block_kpa = block_kpa
            self._last_update_s = c.drift_gain_block_s
            return
        last, self._last_block_kpa = self._last_block_kpa, block_kpa
        gain_before, self._gain_before = self._gain_before, self.gain.copy()
        if last is not None and abs(float(block_kpa.sum() - last.sum())) > (
            c.drift_gain_jump * float(last.sum())
        ):
            # Too fast for drift: a real change. The previous block may have seen its start
            # and moved the gains: that move is undone. The new level is the reference from
            # now on, so drift is followed from there and the change stays seen.
            self.gain = gain_before
            self._gain_before = gain_before.copy()
            self.reference_kpa = block_kpa / self.gain
            self._last_update_s += c.drift_gain_block_s
            return
        reference = self.reference_kpa
        total_off = float(block_kpa.sum() - reference.sum())
        target = self.gain.copy()
        if abs(total_off) > c.drift_gain_deadband * float(reference.sum()):
            moved = block_kpa - reference
            same_way = np.sign(moved) == np.sign(total_off)
            spread = float(np.abs(np.where(same_way, moved, 0.0)).sum())
            share = min(1.0, abs(total_off) / spread) if spread > 0 else 0.0
            drift = np.where(same_way, moved * share, 0.0)
            true_kpa = block_kpa - drift
            target = np.where(true_kpa > 0, block_kpa / np.where(true_kpa > 0, true_kpa, 1.0), 1.0)
        # Time is stepping time, counted from the start of the reference block.
        now_s = self._last_update_s + c.drift_gain_block_s
        if now_s <= c.drift_gain_warmup_s:
            allowed = c.drift_gain_rate_per_min * block_min
        else:
            allowed = c.drift_gain_per_decade * math.log10(now_s / self._last_update_s)
        self._last_update_s = now_s
        lowest, highest = 1.0 / c.drift_gain_max, c.drift_gain_max
        new = np.clip(np.clip(target, self.gain - allowed, self.gain + allowed), lowest, highest)
        if np.any(np.abs(new - self.gain) > 1e-9):
            log.debug("pad gains %s -> %s", np.round(self.gain, 3), np.round(new, 3))
        self.gain = new
