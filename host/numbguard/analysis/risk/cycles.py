"""How fast the forefoot load cycles, per window: the time between its loading cycles.

A machine (elliptical, stair machine) and a drill done on the spot (calf raises) look alike in
a window of one foot: the forefoot swings, never unloads, and the summed plantar load drops
by about half of its peak, because on the toes the heel unloads and the ball pads read high
(the toes, which no pad measures, take part of the load). What tells them apart with these
pads is the pace: a machine is driven at its stroke or step rate, a drill at the pace of a
slow, controlled rise (see `RiskConfig.machine_max_cycle_s`).

A loading cycle starts where the summed forefoot load rises from below 30% to above 70% of
the window's range (the hysteresis keeps noise from counting). The last start is carried from
one window to the next, so a cycle longer than a window is still timed; windows are cut by
sample count, so the result does not depend on chunking.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.windows import WindowBatch
from numbguard.types import FloatArray

_LOW, _HIGH = 0.3, 0.7  # share of the window's range: below is unloaded, above is loaded


class CycleClock:
    """Streams the windows of one foot; per window, the mean time between the loading cycles
    that start in it (NaN when none starts there)."""

    def __init__(self, pads: tuple[str, ...]) -> None:
        self._pads = pads
        self._samples_seen = 0
        self._state = 0  # -1 unloaded, +1 loaded, 0 not known yet
        self._last_start: int | None = None  # sample number of the last cycle start

    def periods_s(self, batch: WindowBatch) -> FloatArray:
        m = len(batch)
        out = np.full(m, np.nan)
        rows = [batch.pad_ids.index(pad) for pad in self._pads if pad in batch.pad_ids]
        if batch.samples_kpa is None or not rows or not batch.sample_rate_hz:
            return out
        part = batch.samples_kpa[rows]  # (pads, m, n)
        n = part.shape[-1]
        none = np.isnan(part).all(axis=0)
        load = np.where(none, np.nan, np.nansum(part, axis=0))  # (m, n)
        with np.errstate(invalid="ignore"):
            low = np.fmin.reduce(load, axis=-1)[:, None]
            span = np.fmax.reduce(load, axis=-1)[:, None] - low
            state = np.where(
                load > low + _HIGH * span, 1, np.where(load < low + _LOW * span, -1, 0)
            ).reshape(-1)
        # Hold the last known state through the samples between the levels (and gaps).
        state = np.concatenate(([self._state], state))
        index = np.where(state != 0, np.arange(len(state)), 0)
        held = state[np.maximum.accumulate(index)]
        starts = np.flatnonzero((held[1:] == 1) & (held[:-1] == -1)) + self._samples_seen
        self._state = int(held[-1])
        if self._last_start is not None:
            starts = np.concatenate(([self._last_start], starts))
        if len(starts) >= 2:
            gaps_s = np.diff(starts) / batch.sample_rate_hz
            window = (starts[1:] - self._samples_seen) // n
            count = np.bincount(window, minlength=m)[:m]
            total = np.bincount(window, weights=gaps_s, minlength=m)[:m]
            timed = count > 0
            out[timed] = total[timed] / count[timed]
        if len(starts):
            self._last_start = int(starts[-1])
        self._samples_seen += m * n
        return out
