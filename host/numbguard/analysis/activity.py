"""What the foot is doing, per window: running, walking, standing, or cyclic loading that
never unloads the forefoot (elliptical, stair machine), streaming.

Each window of `window_s` of one foot is classified from the plantar load (sum of the plantar
pads) and the forefoot load (sum of the ball pads, or the plantar load without them):

- ``unknown``: too many missing samples, or the foot carries almost nothing (under
  `loaded_kpa` at its 95th percentile: sitting, foot off the ground, insole out of the shoe);
- ``standing``: loaded, but the load swings by less than `min_swing_kpa` (5th to 95th
  percentile) and less than `min_swing_fraction` of its level;
- ``cyclic_unrelieved``: the load cycles, but the forefoot's 5th percentile stays above
  `unloaded_kpa` and above `unloaded_fraction` of its 95th: the forefoot never gets relief;
- ``running`` or ``walking``: the load cycles and unloads; running when the duty factor (share
  of time loaded above 15% of the swing) is under `running_duty`, walking otherwise. In
  walking each foot is loaded ~60% of the time, in running ~35%.

Windows are cut by sample count, so the output does not depend on chunking; memory is one
window per foot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from numbguard.errors import BadChunk, BadValue
from numbguard.pads import FOREFOOT_PADS, PLANTAR_PADS, Foot
from numbguard.types import Activity, FloatArray, PressureChunk

_LOADED_LEVEL = 0.15  # share of the swing above the floor that counts as loaded (duty factor)


@dataclass(frozen=True)
class ActivityWindow:
    """The activity of one foot over one window, with the numbers it was decided on."""

    foot: Foot
    t_start_s: float
    t_end_s: float
    activity: Activity
    load_p95_kpa: float  # plantar load
    load_swing_kpa: float  # plantar load, 95th - 5th percentile
    forefoot_floor_kpa: float  # forefoot load, 5th percentile
    duty_factor: float  # share of samples loaded


class ActivityClassifier:
    """Streaming activity classification of one foot (see the module docs for the rules)."""

    def __init__(
        self,
        foot: Foot,
        *,
        window_s: float = 5.0,
        loaded_kpa: float = 20.0,
        min_swing_kpa: float = 40.0,
        min_swing_fraction: float = 0.3,
        unloaded_kpa: float = 10.0,
        unloaded_fraction: float = 0.15,
        running_duty: float = 0.47,
        min_valid_fraction: float = 0.5,
    ) -> None:
        if not window_s > 0:
            raise BadValue(
                "bad window", expected="window_s > 0", got=repr(window_s), name="window_s"
            )
        self.foot: Foot = foot
        self.window_s = window_s
        self.loaded_kpa = loaded_kpa
        self.min_swing_kpa = min_swing_kpa
        self.min_swing_fraction = min_swing_fraction
        self.unloaded_kpa = unloaded_kpa
        self.unloaded_fraction = unloaded_fraction
        self.running_duty = running_duty
        self.min_valid_fraction = min_valid_fraction
        self._window_n = 0
        self._pads: tuple[str, ...] = ()
        self._t: list[FloatArray] = []
        self._load: list[FloatArray] = []
        self._forefoot: list[FloatArray] = []
        self._n = 0

    def update(self, chunk: PressureChunk) -> list[ActivityWindow]:
        """Consume one chunk of this foot; return the windows it completed."""
        if chunk.foot != self.foot:
            raise BadChunk(
                "chunk of the wrong foot",
                expected=self.foot,
                got=chunk.foot,
                foot=chunk.foot,
                what="foot",
            )
        pads = tuple(sorted(chunk.pressure_kpa))
        if not self._pads:
            if not any(pad in PLANTAR_PADS for pad in pads):
                raise BadChunk(
                    "no plantar pad: activity cannot be told",
                    expected="heel or a ball_* pad",
                    got=", ".join(pads) or "no pads",
                    foot=chunk.foot,
                    what="pads",
                )
            if not chunk.sample_rate_hz > 0:
                raise BadChunk(
                    "bad sample rate",
                    expected="a positive rate in Hz",
                    got=repr(chunk.sample_rate_hz),
                    foot=chunk.foot,
                    what="sample_rate_hz",
                )
            self._pads = pads
            self._window_n = max(2, round(self.window_s * chunk.sample_rate_hz))
        elif pads != self._pads:
            raise BadChunk(
                "pads changed mid-stream",
                expected=", ".join(self._pads),
                got=", ".join(pads),
                foot=chunk.foot,
                what="pads",
            )
        plantar = [chunk.pressure_kpa[p] for p in pads if p in PLANTAR_PADS]
        forefoot = [chunk.pressure_kpa[p] for p in pads if p in FOREFOOT_PADS] or plantar
        self._t.append(np.asarray(chunk.t_s, dtype=np.float64))
        self._load.append(_pad_sum(plantar))
        self._forefoot.append(_pad_sum(forefoot))
        self._n += len(chunk.t_s)
        windows: list[ActivityWindow] = []
        if self._n >= self._window_n:
            t_s, load, forefoot_load = (
                np.concatenate(parts) for parts in (self._t, self._load, self._forefoot)
            )
            whole = self._n - self._n % self._window_n
            shape = (whole // self._window_n, self._window_n)
            windows = self._classify_rows(
                t_s[:whole].reshape(shape),
                load[:whole].reshape(shape),
                forefoot_load[:whole].reshape(shape),
            )
            self._t, self._load, self._forefoot = (
                [t_s[whole:]],
                [load[whole:]],
                [forefoot_load[whole:]],
            )
            self._n -= whole
        return windows

    def finish(self) -> list[ActivityWindow]:
        """Classify the last, partial window (if it holds at least half a window)."""
        windows: list[ActivityWindow] = []
        if self._n >= self._window_n // 2 and self._n > 1:
            t_s, load, forefoot_load = (
                np.concatenate(parts) for parts in (self._t, self._load, self._forefoot)
            )
            windows.append(self._classify(t_s, load, forefoot_load))
        self._t, self._load, self._forefoot, self._n = [], [], [], 0
        return windows

    def _classify_rows(
        self, t_s: FloatArray, load: FloatArray, forefoot: FloatArray
    ) -> list[ActivityWindow]:
        """Classify whole windows, one per row: the rows without a missing sample (nearly all)
        in one numpy pass, since per-window percentiles would dominate the stage's cost."""
        no_gap = np.logical_and.reduce(~np.isnan(load) & ~np.isnan(forefoot), axis=1)
        clean = no_gap if self.min_valid_fraction <= 1.0 else np.zeros_like(no_gap)
        # Both signals' rows in one call (each row's percentiles are its own).
        rows = int(np.count_nonzero(clean))
        both = np.percentile(np.concatenate((load[clean], forefoot[clean])), [5, 95], axis=1)
        (low, high), (forefoot_low, forefoot_high) = np.split(both, [rows], axis=1)
        swing = high - low
        duty = np.mean(load[clean] > (low + _LOADED_LEVEL * swing)[:, None], axis=1)
        columns = (high, swing, forefoot_low, forefoot_high, duty)
        stats = iter(zip(*(column.tolist() for column in columns), strict=True))
        windows: list[ActivityWindow] = []
        for row in range(len(load)):
            if clean[row]:
                span = (float(t_s[row, 0]), float(t_s[row, -1]))
                windows.append(self._decide(span, *next(stats)))
            else:
                windows.append(self._classify(t_s[row], load[row], forefoot[row]))
        return windows

    def _classify(self, t_s: FloatArray, load: FloatArray, forefoot: FloatArray) -> ActivityWindow:
        valid = ~np.isnan(load)
        span = (float(t_s[0]), float(t_s[-1]))
        if valid.mean() < self.min_valid_fraction:
            return ActivityWindow(self.foot, *span, "unknown", np.nan, np.nan, np.nan, np.nan)
        low, high = np.percentile(load[valid], [5, 95])
        forefoot_valid = forefoot[~np.isnan(forefoot)]
        forefoot_low, forefoot_high = (
            np.percentile(forefoot_valid, [5, 95]) if len(forefoot_valid) else (np.nan, np.nan)
        )
        swing = high - low
        duty = float(np.mean(load[valid] > low + _LOADED_LEVEL * swing))
        return self._decide(
            span, float(high), float(swing), float(forefoot_low), float(forefoot_high), duty
        )

    def _decide(
        self,
        span: tuple[float, float],
        high: float,
        swing: float,
        forefoot_low: float,
        forefoot_high: float,
        duty: float,
    ) -> ActivityWindow:
        numbers = (high, swing, forefoot_low, duty)
        activity: Activity
        if high < self.loaded_kpa:
            activity = "unknown"
        elif swing < self.min_swing_kpa or swing < self.min_swing_fraction * high:
            activity = "standing"
        elif forefoot_low > max(self.unloaded_kpa, self.unloaded_fraction * forefoot_high):
            activity = "cyclic_unrelieved"
        elif duty < self.running_duty:
            activity = "running"
        else:
            activity = "walking"
        return ActivityWindow(self.foot, *span, activity, *numbers)


def _pad_sum(columns: list[FloatArray]) -> FloatArray:
    """Sum of pads per sample; NaN only where every pad is missing."""
    stacked = np.vstack([np.asarray(c, dtype=np.float64) for c in columns])
    gaps = np.isnan(stacked)
    if not gaps.any():  # the usual case: nansum's sum, without its copy
        plain: FloatArray = stacked.sum(axis=0)
        return plain
    total: FloatArray = np.where(gaps.all(axis=0), np.nan, np.nansum(stacked, axis=0))
    return total


def classify_activity(chunks: Iterable[PressureChunk], **options: float) -> list[ActivityWindow]:
    """Activity windows of a finite stream of chunks (both feet), in time order."""
    classifiers: dict[Foot, ActivityClassifier] = {}
    windows: list[ActivityWindow] = []
    for chunk in chunks:
        classifier = classifiers.get(chunk.foot)
        if classifier is None:
            classifier = classifiers[chunk.foot] = ActivityClassifier(chunk.foot, **options)
        windows += classifier.update(chunk)
    for classifier in classifiers.values():
        windows += classifier.finish()
    return sorted(windows, key=lambda w: (w.t_start_s, w.foot))
