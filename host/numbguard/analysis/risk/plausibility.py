"""Plausibility checks: readings a foot cannot produce mark a pad as suspected, per window.

`sensor_fault.py` knows four signatures (stuck, open, shorted, implausible). Real pads also
fail in ways that look like load; these checks read the raw samples of each window:

- `swing_load`: a plantar pad reads >= 150 kPa for a quarter of the window while every other
  plantar pad of the foot is about unloaded (<= 20 kPa). With the rest of the foot in the air
  no single pad carries load: moisture or a leak path in the pad (a sweat leak). A leak reads
  its level whatever the foot does, so a pad seen leaking stays marked until it reads about
  unloaded again (its window minimum <= 20 kPa), which a leaking pad cannot: on a machine the
  pedal never lets the other pads unload, the test above cannot see the leak again, and the
  pad would otherwise come back into the rules (and the gait figures) after `fault_hold_s`;
- `fast_rise`: a reading rises faster than a foot loads a pad (> 60 kPa/ms; a heel strike is
  ~10-20 kPa/ms), as a contact bounce to full scale does (a loose wire);
- `dropout`: a plantar pad drops to zero and back inside one stance (loaded >= 50 kPa just
  before and after, for at most 0.25 s) while another plantar pad stays loaded: the load did
  not go away, the connection did (a loose wire);
- `flat_zero`: a pad that was live (its range reached 2 kPa while the foot moved), lace pads
  included, reads a flat zero (never above `fault_open_max_kpa`) while the foot moves: the pad
  has gone dead, and what it alone assessed (tight lacing on that lace pad) is no longer judged.

Every threshold is a field of `RiskConfig` (fault_*) with its source or marked a judgement.
Each signature is a (pads, windows) mask; `SensorFault` blanks the marked pads from every rule.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, WindowBatch, filled
from numbguard.pads import PLANTAR_PADS
from numbguard.types import FloatArray

# In order of precedence; each has its advice in analysis/suggestions.py FAULT_ADVICE.
SIGNATURES: tuple[str, ...] = ("swing_load", "fast_rise", "dropout", "flat_zero")


class Plausibility:
    """Per-window plausibility signatures of one foot's pads; remembers which pads were live."""

    def __init__(self, config: RiskConfig, pads: tuple[str, ...]) -> None:
        self._config = config
        self._pads = pads
        self._plantar = [i for i, pad in enumerate(pads) if pad in PLANTAR_PADS]
        self._live = np.zeros(len(pads), dtype=bool)  # seen live in an earlier window
        self._leaking = np.zeros(len(pads), dtype=bool)  # seen leaking, not unloaded since
        self.evidence: dict[str, FloatArray] = {}  # of the last batch: numbers per window

    def signatures(self, batch: WindowBatch) -> dict[str, BoolArray]:
        """Per signature, a (pads, windows) mask; evidence numbers go to `self.evidence`."""
        shape = (len(batch.pad_ids), len(batch))
        samples = batch.samples_kpa
        found = {name: np.zeros(shape, dtype=bool) for name in SIGNATURES}
        self.evidence = {}
        if samples is None or len(batch) == 0:
            return found
        w = batch.table
        c = self._config
        plantar_range = filled(w.range_kpa[self._plantar], 0.0)
        moving: BoolArray = np.asarray((plantar_range >= c.active_forefoot_range_kpa).any(axis=0))
        rate_hz = batch.sample_rate_hz or 100.0
        self._fast_rise(samples, rate_hz, found["fast_rise"])
        if len(self._plantar) >= 2:
            plantar = samples[self._plantar]
            if len(self._plantar) >= 3:
                self._swing_load(plantar, found["swing_load"])
            self._dropouts(plantar, rate_hz, found["dropout"])
        found["swing_load"] = self._leak_held(batch, found["swing_load"])
        found["flat_zero"] = self._flat_zero(batch, moving)
        return found

    def _swing_load(self, plantar: FloatArray, out: BoolArray) -> None:
        c = self._config
        # A pad loaded alone: it reads >= the swing-load level and no other plantar pad reads
        # above "about unloaded" (NaN, a lost sample, compares False: it counts as neither).
        above = plantar > c.fault_swing_unloaded_kpa
        loaded_alone = (plantar >= c.fault_swing_load_kpa) & (above.sum(axis=0) == 1)[None]
        valid = np.maximum((~np.isnan(plantar)).sum(axis=-1), 1)
        share = loaded_alone.sum(axis=-1) / valid
        hit = share >= c.fault_swing_load_fraction
        out[self._plantar] = hit
        # Evidence: the mean reading of the marked pad while the rest of the foot is unloaded.
        alone = np.maximum(loaded_alone.sum(axis=-1), 1)
        swing_kpa = np.where(hit, np.where(loaded_alone, plantar, 0.0).sum(axis=-1) / alone, 0.0)
        self._note("swing_load_kpa", np.where(hit.any(axis=0), swing_kpa.max(axis=0), np.nan))

    def _leak_held(self, batch: WindowBatch, seen: BoolArray) -> BoolArray:
        """`seen` carried on, per pad, from a window that shows a leak until one in which the
        pad reads about unloaded (a window without data clears nothing)."""
        c = self._config
        unloads = filled(batch.table.min_kpa, np.inf) <= c.fault_swing_unloaded_kpa
        held = np.empty_like(seen)
        state = self._leaking
        for j in range(seen.shape[1]):
            state = seen[:, j] | (state & ~unloads[:, j])
            held[:, j] = state
        self._leaking = state.copy()
        return held

    def _fast_rise(self, samples: FloatArray, rate_hz: float, out: BoolArray) -> None:
        c = self._config
        step_ms = 1000.0 / rate_hz
        rise = np.diff(samples, axis=-1) / step_ms  # kPa/ms within each window
        fastest = np.fmax.reduce(filled(rise, 0.0), axis=-1) if rise.shape[-1] else None
        if fastest is None:
            return
        hit = fastest > c.fault_rise_kpa_per_ms
        out[:] = hit
        self._note("rise_kpa_per_ms", np.where(hit.any(axis=0), fastest.max(axis=0), np.nan))

    def _dropouts(self, plantar: FloatArray, rate_hz: float, out: BoolArray) -> None:
        c = self._config
        rows, n_windows, n = plantar.shape
        max_len = max(1, round(c.fault_dropout_max_s * rate_hz))
        x = plantar.reshape(rows, -1)
        zero = x <= c.fault_open_max_kpa
        # Cheap gate: no dropout without a fall from loaded straight to zero.
        if not (zero[:, 1:] & (x[:, :-1] >= c.fault_dropout_loaded_kpa)).any():
            self._note("dropouts", np.full(n_windows, np.nan))
            return
        # Runs of zeros per row (padding keeps every run inside its row), in row-major order.
        edges = np.diff(np.pad(zero, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        row, starts = np.nonzero(edges == 1)
        _, ends = np.nonzero(edges == -1)  # one past the run
        keep = (starts > 0) & (ends < x.shape[1]) & (ends - starts <= max_len)
        row, starts, ends = row[keep], starts[keep], ends[keep]
        counts = np.zeros((rows, n_windows))
        if len(starts):
            loaded = c.fault_dropout_loaded_kpa
            same_window = starts // n == (ends - 1) // n
            inside_stance = (x[row, starts - 1] >= loaded) & (x[row, ends] >= loaded)
            # The other plantar pads at each run's first sample: is one of them loaded?
            at_start = np.where(np.arange(rows)[:, None] == row[None], -np.inf, x[:, starts])
            neighbours = filled(at_start, -np.inf).max(axis=0) >= loaded
            hit = same_window & inside_stance & neighbours
            np.add.at(counts, (row[hit], starts[hit] // n), 1.0)
        out[self._plantar] = counts > 0
        self._note("dropouts", np.where((counts > 0).any(axis=0), counts.sum(axis=0), np.nan))

    def _flat_zero(self, batch: WindowBatch, moving: BoolArray) -> BoolArray:
        c = self._config
        w = batch.table
        present = w.valid_fraction >= c.min_valid_fraction
        live = present & (filled(w.range_kpa, 0.0) >= c.fault_live_range_kpa) & moving
        # Live in an earlier window (this batch or before): carried across batches.
        seen = np.logical_or.accumulate(np.concatenate([self._live[:, None], live], 1), axis=1)
        self._live = seen[:, -1].copy()
        flat_zero = present & (filled(w.max_kpa, np.inf) <= c.fault_open_max_kpa) & moving
        return flat_zero & seen[:, :-1]

    def _note(self, name: str, values: FloatArray) -> None:
        self.evidence[name] = values
