"""Is a difference between two sets of sessions beyond the noise? A block bootstrap of the
difference of per-step medians.

Per foot and metric, the statistic is median(B's steps) - median(A's steps), steps pooled over
each side's sessions. Consecutive steps are not independent (the lacing, the pace, the
insole's fit drift together over minutes), so resampling single steps would make the interval
too narrow: the bootstrap resamples blocks of `block_steps` consecutive steps (the moving-block
bootstrap, Kunsch 1989), and, when a side has several sessions, first the sessions themselves
(with replacement), so that session-to-session variation widens the interval as it should. The
95% interval is the 2.5th to 97.5th percentile of the resampled differences; a difference is
beyond the noise when the interval excludes 0.

The block length is a configurable judgement: at least `MIN_BLOCK_STEPS`, at least the cube
root of the step count (the usual order for the block bootstrap's variance, Hall, Horowitz
and Jing 1995), and `BLOCK_LAGS` times the lag at which the steps' autocorrelation falls under
`BLOCK_ACF_BELOW` (a block then holds the correlated stretch whole); never more than a quarter
of the steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from numbguard.errors import BadValue
from numbguard.recording import TAG_NAMES
from numbguard.types import FloatArray

MIN_BLOCK_STEPS: Final = 5
BLOCK_ACF_BELOW: Final = 0.2
BLOCK_LAGS: Final = 2  # a block spans this many times the correlated lag
RESAMPLES: Final = 2000
CONFIDENCE: Final = 0.95
# Selectors filter on the tags a session is compared by; a note is free text, not a category.
SELECTOR_TAGS: Final = tuple(name for name in TAG_NAMES if name != "note")


@dataclass(frozen=True)
class Difference:
    """B minus A for one metric of one foot, with its bootstrap interval."""

    foot: str
    metric: str
    median_a: float
    median_b: float
    low: float  # the interval's ends, of the difference B - A
    high: float
    steps_a: int
    steps_b: int
    sessions_a: int
    sessions_b: int
    block_steps: int

    @property
    def difference(self) -> float:
        return self.median_b - self.median_a

    @property
    def beyond_noise(self) -> bool:
        return self.low > 0.0 or self.high < 0.0


def block_length(series: FloatArray) -> int:
    """The block length for one session's per-step series (see the module's note)."""
    n = len(series)
    if n < 2 * MIN_BLOCK_STEPS:
        return max(1, n)
    length = max(MIN_BLOCK_STEPS, math.ceil(n ** (1 / 3)))
    centred = series - series.mean()
    variance = float(centred @ centred)
    longest = max(MIN_BLOCK_STEPS, n // 4)
    if variance > 0.0:
        for lag in range(1, longest + 1):
            if float(centred[:-lag] @ centred[lag:]) / variance < BLOCK_ACF_BELOW:
                length = max(length, BLOCK_LAGS * lag)
                break
        else:
            length = longest
    return int(min(length, longest))


def _block_resample(
    series: FloatArray, block: int, rng: np.random.Generator, count: int
) -> FloatArray:
    """`count` moving-block resamples of `series`, each as long as it: shape (count, n)."""
    n = len(series)
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(count, blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(count, blocks * block)[:, :n]
    resampled: FloatArray = series[index]
    return resampled


def _medians(
    sessions: Sequence[FloatArray], blocks: Sequence[int], rng: np.random.Generator, count: int
) -> FloatArray:
    """`count` bootstrap medians of the pooled steps of `sessions`."""
    if len(sessions) == 1:
        medians: list[FloatArray] = []
        for start in range(0, count, 250):  # bounded memory for hour-long sessions
            batch = min(250, count - start)
            medians.append(np.median(_block_resample(sessions[0], blocks[0], rng, batch), axis=1))
        return np.concatenate(medians)
    out = np.empty(count)
    for r in range(count):
        chosen = rng.integers(0, len(sessions), size=len(sessions))
        out[r] = np.median(
            np.concatenate([_block_resample(sessions[k], blocks[k], rng, 1)[0] for k in chosen])
        )
    return out


def median_difference(
    a: Sequence[FloatArray],
    b: Sequence[FloatArray],
    *,
    foot: str = "",
    metric: str = "",
    resamples: int = RESAMPLES,
    seed: int = 0,
    block_steps: int | None = None,
) -> Difference | None:
    """The bootstrap interval of median(B) - median(A), each side a list of per-session,
    per-step series (NaN steps left out). None when a side has no steps at all.

    `block_steps` fixes the block length (default: `block_length` of each session).
    """
    sides = [[s[np.isfinite(s)] for s in side] for side in (a, b)]
    sides = [[s for s in side if len(s)] for side in sides]
    if not sides[0] or not sides[1]:
        return None
    rng = np.random.default_rng(seed)
    blocks = [
        [min(block_steps, len(s)) if block_steps else block_length(s) for s in side]
        for side in sides
    ]
    boot_a = _medians(sides[0], blocks[0], rng, resamples)
    boot_b = _medians(sides[1], blocks[1], rng, resamples)
    tail = (1.0 - CONFIDENCE) / 2.0
    low, high = np.quantile(boot_b - boot_a, [tail, 1.0 - tail])
    return Difference(
        foot=foot,
        metric=metric,
        median_a=float(np.median(np.concatenate(sides[0]))),
        median_b=float(np.median(np.concatenate(sides[1]))),
        low=float(low),
        high=float(high),
        steps_a=sum(len(s) for s in sides[0]),
        steps_b=sum(len(s) for s in sides[1]),
        sessions_a=len(sides[0]),
        sessions_b=len(sides[1]),
        block_steps=max(blocks[0] + blocks[1]),
    )


def parse_selector(text: str) -> dict[str, str]:
    """``lacing=loose`` or ``shoe=Pegasus,lacing=loose`` as {tag: value}."""
    selector: dict[str, str] = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or name not in SELECTOR_TAGS or not value or name in selector:
            raise BadValue(
                "bad session selector",
                expected="TAG=VALUE[,TAG=VALUE] with TAG one of " + ", ".join(SELECTOR_TAGS),
                got=repr(text),
                name="selector",
            )
        selector[name] = value
    return selector


def describe_selector(selector: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in selector.items())
