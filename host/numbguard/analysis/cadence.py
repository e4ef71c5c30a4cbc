"""Cadence in steps per minute (both feet) from the steps of the gait stage, streaming.

One foot's stride holds two steps (one per foot), so cadence = 2 x 60 / median stride. Using
each foot's own strides keeps cadence right when one insole drops out, and the median keeps it
steady through a missed or extra contact. Only strides of the last `window_s` count; with
fewer than `min_strides` of them (a stop, the start) there is no cadence.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from numbguard.errors import BadValue
from numbguard.types import StepMetrics


def cadence_from_strides(strides_s: Iterable[float]) -> float | None:
    """Steps per minute from stride times (s) of either foot; None without strides."""
    values = [s for s in strides_s if s > 0]
    return 120.0 / float(np.median(values)) if values else None


class CadenceTracker:
    """Cadence over a sliding window of recent steps; feed it the gait stage's output."""

    def __init__(self, *, window_s: float = 20.0, min_strides: int = 3) -> None:
        if not window_s > 0 or min_strides < 1:
            raise BadValue(
                "bad cadence window",
                expected="window_s > 0 and min_strides >= 1",
                got=f"window_s={window_s}, min_strides={min_strides}",
                name="window_s, min_strides",
            )
        self.window_s = window_s
        self.min_strides = min_strides
        self._recent: deque[tuple[float, float]] = deque()  # (t_on_s, stride_s)
        self._now_s = float("-inf")
        self.cadence_spm_: float | None = None

    def update(self, steps: Iterable[StepMetrics], now_s: float | None = None) -> float | None:
        """Add steps (any order, both feet); `now_s` ages out old strides. Returns the cadence."""
        for step in steps:
            self._now_s = max(self._now_s, step.t_on_s)
            if step.stride_s is not None:
                self._recent.append((step.t_on_s, step.stride_s))
        if now_s is not None:
            self._now_s = max(self._now_s, now_s)
        while self._recent and self._recent[0][0] < self._now_s - self.window_s:
            self._recent.popleft()
        recent = [stride for t_on, stride in self._recent if t_on >= self._now_s - self.window_s]
        enough = len(recent) >= self.min_strides
        self.cadence_spm_ = cadence_from_strides(recent) if enough else None
        return self.cadence_spm_


def session_cadence_spm(steps: Iterable[StepMetrics]) -> float | None:
    """Cadence over a whole session: from the median stride of all steps with a stride."""
    return cadence_from_strides(step.stride_s for step in steps if step.stride_s is not None)
