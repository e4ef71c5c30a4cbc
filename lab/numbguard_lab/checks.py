"""Checks of what a host received against what a lab insole sampled (frames and samples)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from numbguard.protocol.frames import DataFrame
from numbguard.transports.emulated_insole import sample_set


def missing_or_doubled(frames: Iterable[DataFrame]) -> tuple[list[int], list[int]]:
    """Sequence numbers absent between the first and last received, and those received twice."""
    counts = Counter(frame.seq for frame in frames)
    if not counts:
        return [], []
    span = range(min(counts), max(counts) + 1)
    return [seq for seq in span if seq not in counts], sorted(s for s, n in counts.items() if n > 1)


def altered(frames: Iterable[DataFrame]) -> list[int]:
    """Sequence numbers of frames whose samples differ from what the emulator sampled.

    The emulator's values are a function of the sample index, and a frame's first sample
    index follows from its `t_first_us` (valid within the first 16.78 s of a run, before the
    24-bit time wraps, with no clock offset).
    """
    bad: list[int] = []
    for frame in frames:
        first_index = round(frame.t_first_us * frame.rate_hz / 1e6)
        expected = [
            sample_set(first_index + i, frame.rate_hz, frame.pad_mask) for i in range(frame.n_sets)
        ]
        if not np.array_equal(frame.samples, np.array(expected, dtype=np.uint16)):
            bad.append(frame.seq)
    return bad
