"""The runner's own baseline: the median of a measure over the steady part of an activity bout.

Per bout (see `risk.bouts`): once the bout has settled, the median of `windows_needed` eligible
steady windows becomes the baseline. A new bout starts the baseline over. Over a long bout the
baseline is refreshed every `refresh_windows` steady windows, by the median of the next
`windows_needed`, but only downward: the rules look for a rise, so a refresh that took in a
slow rise (forefoot pressure rises over long runs, per the brief) would hide what it should
catch, while a lower steady level (the runner eased off) is the better reference.
"""

from __future__ import annotations

import numpy as np

from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, Bouts
from numbguard.types import FloatArray


class Baseline:
    """Collects a measure from eligible windows until `windows_needed`, then freezes its median.

    `resolve` gives, per window, the baseline known *before* that window (NaN while it is still
    being collected), so a condition can never be compared with a baseline that includes it.
    """

    def __init__(self, windows_needed: int, refresh_windows: int | None = None) -> None:
        self._needed = max(1, windows_needed)
        self._refresh = refresh_windows
        self._values: list[float] = []
        self._since = 0  # eligible windows since the baseline was set
        self._bout: int | None = None
        self.value: float | None = None

    def resolve(
        self, values: FloatArray, eligible: BoolArray, bouts: Bouts | None = None
    ) -> FloatArray:
        out = np.full(len(values), np.nan)
        usable = eligible & np.isfinite(values)
        if bouts is not None:
            usable &= bouts.steady
        same_bout = bouts is None or bool((bouts.bout == self._bout).all())
        if self.value is not None and same_bout:
            # The common case, a set baseline in the same bout: no per-window work unless a
            # refresh starts inside this batch.
            count = int(usable.sum())
            if self._refresh is None or self._since + count <= self._refresh:
                self._since += count
                out[:] = self.value
                return out
        for i in range(len(values)):
            if bouts is not None and int(bouts.bout[i]) != self._bout:
                self._bout = int(bouts.bout[i])
                self.value, self._values, self._since = None, [], 0
            if self.value is not None:
                out[i] = self.value
            if not usable[i]:
                continue
            if self.value is None:
                self._collect(float(values[i]))
            elif self._refresh is not None:
                self._since += 1
                if self._since > self._refresh:
                    self._collect(float(values[i]))
        return out

    def _collect(self, value: float) -> None:
        self._values.append(value)
        if len(self._values) < self._needed:
            return
        median = float(np.median(self._values))
        self.value = median if self.value is None else min(self.value, median)
        self._values, self._since = [], 0


def new_baseline(config: RiskConfig) -> Baseline:
    """A baseline of `config.baseline_s`, refreshed every `config.baseline_refresh_s`."""
    return Baseline(
        round(config.baseline_s / config.window_s),
        round(config.baseline_refresh_s / config.window_s),
    )
