"""The runner's own baseline: the median of a measure over the first active minutes."""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.windows import BoolArray
from numbguard.analysis.types import FloatArray


class Baseline:
    """Collects a measure from eligible windows until `windows_needed`, then freezes its median.

    `resolve` gives, per window, the baseline known *before* that window (NaN while it is still
    being collected), so a condition can never be compared with a baseline that includes it.
    """

    def __init__(self, windows_needed: int) -> None:
        self._needed = max(1, windows_needed)
        self._values: list[float] = []
        self.value: float | None = None

    def resolve(self, values: FloatArray, eligible: BoolArray) -> FloatArray:
        out = np.full(len(values), np.nan)
        if self.value is not None:
            out[:] = self.value
            return out
        index = np.flatnonzero(eligible & np.isfinite(values))
        missing = self._needed - len(self._values)
        taken = index[:missing]
        self._values.extend(float(v) for v in values[taken])
        if len(self._values) >= self._needed:
            self.value = float(np.median(self._values))
            self._values = []
            out[int(taken[-1]) + 1 :] = self.value
        return out
