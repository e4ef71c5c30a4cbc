"""From placed data frames (any order, with gaps) to a gap-free, time-ordered sample grid.

The analysis needs each foot's samples in time order on a uniform grid. Frames arrive out of
order when a resend fills a gap, so the assembler holds the newest `hold_s` of samples and
waits up to `max_wait_s` for a missing frame before releasing its samples as NaN (missing).
Every decision uses only the frames and their receive times, never the wall clock, so a
replay of a recording releases exactly what the live session released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from numbguard.analysis.types import FloatArray
from numbguard.protocol.stream import StreamFrame

# Half a second of hold lets notifications reordered by the radio fall into place.
DEFAULT_HOLD_S: Final = 0.5
# A link drop of a few seconds is refilled by RESEND within this; alerts must still come within
# 30 s of an onset, so the wait stays well below that.
DEFAULT_MAX_WAIT_S: Final = 8.0


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive grid samples: `counts[i]` is sample `first_index + i` (NaN = missing)."""

    first_index: int
    counts: FloatArray  # (n, pads), 12-bit counts as float so NaN can mark a missing sample


@dataclass
class AssemblerStats:
    samples_released: int = 0
    samples_missing: int = 0  # released as NaN
    frames_too_late: int = 0  # arrived after their samples were released as missing
    frames_other_format: int = 0  # another rate or pad set than the session's


class SampleAssembler:
    """One foot's grid. The first frame fixes the grid: its rate, its pads, sample 0."""

    def __init__(
        self, *, hold_s: float = DEFAULT_HOLD_S, max_wait_s: float = DEFAULT_MAX_WAIT_S
    ) -> None:
        self.hold_s = hold_s
        self.max_wait_s = max_wait_s
        self.stats = AssemblerStats()
        self.rate_hz: int | None = None
        self.pads: tuple[str, ...] = ()
        self.t0_us: float = 0.0  # stream time of grid sample 0
        self._pending: dict[int, FloatArray] = {}  # first grid index -> frame's samples
        self._next_index = 0  # first sample not yet released
        self._newest_end_index = 0
        self._blocked_since_s: float | None = None  # receive time when a gap first held us

    def add(self, placed: StreamFrame, received_s: float) -> list[SampleBlock]:
        """Take one placed frame; return the samples that became final."""
        frame = placed.frame
        if self.rate_hz is None:
            self.rate_hz, self.pads, self.t0_us = frame.rate_hz, frame.pads, placed.t_first_us
        if frame.rate_hz != self.rate_hz or frame.pads != self.pads:
            self.stats.frames_other_format += 1
            return []
        period_us = 1e6 / self.rate_hz
        first = round((placed.t_first_us - self.t0_us) / period_us)
        if first < self._next_index:
            self.stats.frames_too_late += 1
            return []
        self._pending[first] = frame.samples.astype(np.float64)
        self._newest_end_index = max(self._newest_end_index, first + frame.n_sets)
        hold_sets = round(self.hold_s * self.rate_hz)
        return self._release(self._newest_end_index - hold_sets, received_s)

    def flush(self) -> list[SampleBlock]:
        """Release everything: the session ended, nothing more will come."""
        return self._release(self._newest_end_index, None)

    def _release(self, until_index: int, now_s: float | None) -> list[SampleBlock]:
        blocks: list[SampleBlock] = []
        while self._next_index < until_index:
            samples = self._pending.pop(self._next_index, None)
            if samples is not None:
                blocks.append(SampleBlock(self._next_index, samples))
                self._next_index += len(samples)
                self.stats.samples_released += len(samples)
                self._blocked_since_s = None
                continue
            # A gap: wait for a resend unless it has waited long enough or we are flushing.
            if now_s is not None:
                if self._blocked_since_s is None:
                    self._blocked_since_s = now_s
                if now_s - self._blocked_since_s < self.max_wait_s:
                    break
            gap_end = min(
                [index for index in self._pending if index > self._next_index], default=until_index
            )
            gap_end = min(gap_end, until_index)
            blocks.append(
                SampleBlock(
                    self._next_index, np.full((gap_end - self._next_index, len(self.pads)), np.nan)
                )
            )
            self.stats.samples_missing += gap_end - self._next_index
            self.stats.samples_released += gap_end - self._next_index
            self._next_index = gap_end
            self._blocked_since_s = None
        # Overlapping frames (a frame that straddles the release point) are split no further:
        # drop pending frames that start before the released point.
        for index in [index for index in self._pending if index < self._next_index]:
            del self._pending[index]
            self.stats.frames_too_late += 1
        return _merge(blocks)


def _merge(blocks: list[SampleBlock]) -> list[SampleBlock]:
    """Adjacent blocks as one, so the analysis gets fewer, larger chunks."""
    if len(blocks) <= 1:
        return blocks
    return [SampleBlock(blocks[0].first_index, np.concatenate([b.counts for b in blocks]))]
