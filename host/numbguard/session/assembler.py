"""From placed data frames (any order, with gaps) to a gap-free, time-ordered sample grid.

The analysis needs each foot's samples in time order on a uniform grid. Frames arrive out of
order when a resend fills a gap, so the assembler holds the newest `hold_s` of samples and
waits up to `max_wait_s` for a missing frame before releasing its samples as NaN (missing).
A hole with no frame missing (consecutive frame numbers: the insole skipped sample slots) or
the time an insole spent restarting (a new boot) is released as NaN at once: nothing will
fill it. Every decision uses only the frames and their receive times, never the wall clock,
so a replay of a recording releases exactly what the live session released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from numbguard.protocol.stream import StreamFrame
from numbguard.types import FloatArray

# Half a second of hold lets notifications reordered by the radio fall into place.
DEFAULT_HOLD_S: Final = 0.5
# A link drop of a few seconds is refilled by RESEND within this; alerts must still come within
# 30 s of an onset, so the wait stays well below that.
DEFAULT_MAX_WAIT_S: Final = 8.0
# Nothing is released in the first seconds of a link: the host asks the insole for the frames
# it took before the first one heard (its ring holds them), and they may extend the grid
# backwards until the first release.
DEFAULT_START_HOLD_S: Final = 2.0


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive grid samples: `counts[i]` is sample `first_index + i` (NaN = missing)."""

    first_index: int
    counts: FloatArray  # (n, pads), 12-bit counts as float so NaN can mark a missing sample


@dataclass
class AssemblerStats:
    samples_released: int = 0
    samples_missing: int = 0  # released as NaN after waiting for a frame that never came
    samples_skipped: int = 0  # released as NaN at once: skipped by the insole, or a restart
    frames_too_late: int = 0  # arrived after their samples were released as missing
    frames_other_format: int = 0  # another rate or pad set than the session's


class SampleAssembler:
    """One foot's grid. The first frame fixes the grid: its rate, its pads, sample 0."""

    def __init__(
        self,
        *,
        hold_s: float = DEFAULT_HOLD_S,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        start_hold_s: float = DEFAULT_START_HOLD_S,
    ) -> None:
        self.hold_s = hold_s
        self.max_wait_s = max_wait_s
        self.start_hold_s = start_hold_s
        self._first_received_s: float | None = None
        self.stats = AssemblerStats()
        self.rate_hz: int | None = None
        self.pads: tuple[str, ...] = ()
        self.t0_us: float = 0.0  # stream time of grid sample 0
        # Per boot of the insole: (grid index, stream time) of its first sample. A restarted
        # insole's clock says nothing about the time between boots, so the caller places each
        # new boot on the grid (`start_boot`).
        self._boots: dict[int, tuple[int, float]] = {}
        self._pending: dict[int, _Pending] = {}  # first grid index -> frame
        self._next_index = 0  # first sample not yet released
        self._released_seq64: int | None = None  # frame that ended at `_next_index`
        self._released_boot = 0
        self._newest_end_index = 0
        self._blocked_since_s: float | None = None  # receive time when a gap first held us

    @property
    def end_index(self) -> int:
        """One past the newest sample received."""
        return self._newest_end_index

    def knows_boot(self, boot: int) -> bool:
        return boot in self._boots

    def start_boot(self, boot: int, t_first_us: float, first_index: int) -> None:
        """Place the first frame of a new boot at grid index `first_index` (at least past the
        samples already received)."""
        self._boots[boot] = (max(first_index, self._newest_end_index), t_first_us)

    def add(self, placed: StreamFrame, received_s: float) -> list[SampleBlock]:
        """Take one placed frame; return the samples that became final."""
        frame = placed.frame
        if self.rate_hz is None:
            self.rate_hz, self.pads, self.t0_us = frame.rate_hz, frame.pads, placed.t_first_us
            self._boots[placed.boot] = (0, placed.t_first_us)
            self._released_boot = placed.boot
        if frame.rate_hz != self.rate_hz or frame.pads != self.pads:
            self.stats.frames_other_format += 1
            return []
        if placed.boot not in self._boots:
            self.start_boot(placed.boot, placed.t_first_us, self._newest_end_index)
        base_index, boot_t0_us = self._boots[placed.boot]
        period_us = 1e6 / self.rate_hz
        first = base_index + round((placed.t_first_us - boot_t0_us) / period_us)
        if first < self._next_index:
            if self.stats.samples_released:
                self.stats.frames_too_late += 1
                return []
            self._next_index = first  # before anything is released, the grid grows backwards
        self._pending[first] = _Pending(frame.samples.astype(np.float64), placed.seq64, placed.boot)
        self._newest_end_index = max(self._newest_end_index, first + frame.n_sets)
        if self._first_received_s is None:
            self._first_received_s = received_s
        if received_s - self._first_received_s < self.start_hold_s:
            return []
        hold_sets = round(self.hold_s * self.rate_hz)
        return self._release(self._newest_end_index - hold_sets, received_s)

    def flush(self) -> list[SampleBlock]:
        """Release everything: the session ended, nothing more will come."""
        return self._release(self._newest_end_index, None)

    def _release(self, until_index: int, now_s: float | None) -> list[SampleBlock]:
        blocks: list[SampleBlock] = []
        while self._next_index < until_index:
            pending = self._pending.pop(self._next_index, None)
            if pending is not None:
                blocks.append(SampleBlock(self._next_index, pending.samples))
                self._next_index += len(pending.samples)
                self.stats.samples_released += len(pending.samples)
                self._released_seq64, self._released_boot = pending.seq64, pending.boot
                self._blocked_since_s = None
                continue
            following = [index for index in self._pending if index > self._next_index]
            nothing_missing = bool(following) and self._follows(self._pending[min(following)])
            # A gap: wait for a resend unless nothing is missing, it has waited long enough,
            # or we are flushing.
            if now_s is not None and not nothing_missing:
                if self._blocked_since_s is None:
                    self._blocked_since_s = now_s
                if now_s - self._blocked_since_s < self.max_wait_s:
                    break
            gap_end = min(min(following, default=until_index), until_index)
            blocks.append(
                SampleBlock(
                    self._next_index, np.full((gap_end - self._next_index, len(self.pads)), np.nan)
                )
            )
            if nothing_missing:
                self.stats.samples_skipped += gap_end - self._next_index
            else:
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

    def _follows(self, pending: _Pending) -> bool:
        """Whether `pending` comes right after the last released frame: the next frame number
        of the same boot, or the first of a later boot (the stream gives up the old one's
        missing frames when it sees a restart)."""
        if pending.boot != self._released_boot:
            return pending.boot > self._released_boot
        return self._released_seq64 is not None and pending.seq64 == self._released_seq64 + 1


@dataclass(frozen=True)
class _Pending:
    samples: FloatArray
    seq64: int
    boot: int


def _merge(blocks: list[SampleBlock]) -> list[SampleBlock]:
    """Adjacent blocks as one, so the analysis gets fewer, larger chunks."""
    if len(blocks) <= 1:
        return blocks
    return [SampleBlock(blocks[0].first_index, np.concatenate([b.counts for b in blocks]))]
