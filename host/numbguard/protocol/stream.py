"""Reassembly of one insole's data stream: 64-bit sequence and time, gaps, resends, resets.

The wire carries a 16-bit frame number and the low 24 bits of the device clock (16.78 s). An
`InsoleStream` turns them into monotonic 64-bit values:

- `seq64`: the frame number nearest the newest one seen (frames never arrive 2^15 out of order).
- `t_first_us` (the stream timeline, microseconds): the 24-bit time is unwrapped to the value
  nearest to where the sequence puts the frame (the newest frame's end plus the missing
  frames at the same length), never before the newest frame's end, and never before the full
  32-bit clock of the latest status page 1 when the frame is newer than that page. So a loss
  of any length is placed right while the device kept sampling (within 8 s of error from
  shorter frames in the gap), and a stop of streaming is placed right once a page 1 came
  during it (pages come every 5 s), or if it was shorter than 15 s.

Frames missing between two received ones are gaps: `resend_ranges()` gives the RESEND ranges
that fill them, a frame that fills one is placed as `late` (recovered, not lost), and
`give_up()` counts the ones the insole no longer holds as lost. A change of `boot_id` in status
page 0 (or frames that contradict ones already received, e.g. a reset noticed before the page)
starts a new boot: the time in between is recorded as a gap of reason ``reset``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from numbguard.protocol.constants import DEVICE_CLOCK_MODULO, SEQ_MODULO, T_FIRST_MODULO
from numbguard.protocol.frames import DataFrame, StatusClock, StatusFrame, StatusIdentity

# Frames remembered behind the newest one: duplicates and gaps are judged within this window.
# 30 s of ring at 200 frames/s (MTU 23, 200 Hz) is 6000 frames.
HISTORY_FRAMES: Final = 8192
# Slack on time bounds: sampling jitter, and frames of a different length around a gap.
TIME_SLACK_US: Final = 1_000_000
# Frames that contradict received ones, at which a reset is assumed without waiting for page 0.
RESET_EVIDENCE_FRAMES: Final = 3
MAX_EVIDENCE_FRAMES: Final = 64
# Frames held after a reconnection while waiting for page 0 (10 s at 200 frames/s).
MAX_WAITING_FRAMES: Final = 2048

GapReason = Literal["missing", "reset"]


@dataclass(frozen=True)
class StreamFrame:
    """A data frame placed on the stream: `seq64` and `t_first_us` are monotonic across wraps."""

    frame: DataFrame
    seq64: int
    t_first_us: int  # stream timeline: the device clock, continued across resets
    boot: int  # resets seen before this frame
    late: bool  # it came after a newer frame, into a gap: recovered, not lost

    @property
    def t_end_us(self) -> float:
        return self.t_first_us + self.frame.span_us

    def sample_times_us(self) -> npt.NDArray[np.float64]:
        """Stream time of each sample set of the frame."""
        period_us = 1e6 / self.frame.rate_hz
        return self.t_first_us + period_us * np.arange(self.frame.n_sets, dtype=np.float64)


@dataclass(frozen=True)
class Gap:
    """Frames that did not arrive in order. A reset gap holds no frame numbers (first > last)."""

    reason: GapReason
    first_seq64: int
    last_seq64: int
    t_start_us: float  # end of the last frame before the gap

    @property
    def frames(self) -> int:
        return max(0, self.last_seq64 - self.first_seq64 + 1)


@dataclass
class StreamStats:
    frames: int = 0  # placed in order
    late: int = 0  # placed into a gap, after newer frames
    duplicates: int = 0
    lost: int = 0  # given up, expired from the window, or cut by a reset
    resets: int = 0
    contradicting: int = 0  # frames that disagreed with received ones (evidence of a reset)


def unwrap_near(value: int, modulo: int, near: float) -> int:
    """The integer congruent to `value` modulo `modulo` nearest to `near`."""
    return value + round((near - value) / modulo) * modulo


def unwrap_at_least(value: int, modulo: int, lower: float) -> int:
    """The smallest integer congruent to `value` modulo `modulo` that is >= `lower`."""
    return value + math.ceil((lower - value) / modulo) * modulo


def seq_delta(seq: int, reference: int) -> int:
    """Signed distance from `reference` to 16-bit `seq`, in -2^15 .. 2^15 - 1."""
    return (seq - reference + SEQ_MODULO // 2) % SEQ_MODULO - SEQ_MODULO // 2


@dataclass
class _Boot:
    """What is known of the current boot of the insole."""

    t_offset_us: int  # stream time of device time 0 (mod 2^24) in this boot
    seq_base: int  # seq64 of this boot's frame 0
    boot_id: int | None = None
    clock: tuple[int, int] | None = None  # (32-bit device clock, stream time) of a page 1
    page_bound: tuple[int, int] | None = None  # (last_data_seq64, stream time) of latest page 1
    started: bool = False  # a frame of this boot was placed


class InsoleStream:
    """The stream of one insole: feed it every data frame and status page, in arrival order.

    How a link uses it::

        stream.hold_until_identity()  # on every (re)connection, then send GET_STATUS
        for placed in stream.place(data_frame):  # nothing for a duplicate
            deliver(placed)  # placed.seq64, placed.t_first_us, placed.late
        for placed in stream.on_status(page):  # frames released by a confirmed reset
            deliver(placed)
        for first_seq, last_seq in stream.resend_ranges():
            reply = send RESEND(first_seq, last_seq)
            if reply is NOT_HELD: stream.give_up(first_seq, last_seq)
            elif reply is OK: stream.resend_refused_before(reply.data["oldest_seq_held"])
    """

    def __init__(
        self, *, history_frames: int = HISTORY_FRAMES, max_waiting_frames: int = MAX_WAITING_FRAMES
    ) -> None:
        self.history_frames = history_frames
        self.max_waiting_frames = max_waiting_frames
        self.stats = StreamStats()
        self.gaps: list[Gap] = []
        self._boot = _Boot(t_offset_us=0, seq_base=0)
        self._boot_index = 0
        self._hi: int | None = None  # seq64 of the newest frame
        self._hi_end_us = 0.0
        self._hi_span_us = 0.0
        self._recent: dict[int, tuple[int, int]] = {}  # seq64 -> (t24, stream time)
        self._recent_order: deque[int] = deque()
        self._missing: dict[int, tuple[int, float]] = {}  # seq64 -> anchor (seq64, end time)
        self._requested: set[int] = set()
        self._evidence: list[DataFrame] = []  # frames contradicting received ones
        self._waiting: list[DataFrame] | None = None  # frames held until page 0 (reconnection)
        self._first_placed: tuple[int, int] | None = None  # (seq64, time) of the first frame

    # -- status --------------------------------------------------------------------------

    def on_status(self, page: StatusFrame) -> list[StreamFrame]:
        """Learn from a status page; returns frames released by a reset it confirms."""
        if isinstance(page, StatusIdentity):
            return self._on_identity(page.boot_id)
        if isinstance(page, StatusClock):
            self._on_clock(page.device_time_us, page.last_data_seq)
        return []

    def _on_identity(self, boot_id: int) -> list[StreamFrame]:
        placed: list[StreamFrame] = []
        if self._boot.boot_id is None and not self._evidence:
            self._boot.boot_id = boot_id
        elif boot_id == self._boot.boot_id:
            self._evidence.clear()  # they were not a reset: drop the evidence
        else:
            self.restart(boot_id)
            placed = self._release_evidence()
        return placed + self.release_waiting()

    def hold_until_identity(self) -> None:
        """The link came back: the insole may have restarted meanwhile, and its new frames
        could pass for the old boot's. Hold data frames until the next status page 0 says
        which boot they belong to (ask for it with GET_STATUS); `release_waiting()` gives up
        waiting, and so does holding `max_waiting_frames` frames."""
        if self._waiting is None:
            self._waiting = []

    def release_waiting(self) -> list[StreamFrame]:
        """Place the frames held since `hold_until_identity`, as frames of the current boot."""
        waiting, self._waiting = self._waiting or [], None
        return [placed for frame in waiting for placed in self.place(frame)]

    def _on_clock(self, device_time_us: int, last_data_seq: int) -> None:
        boot = self._boot
        page_seq64 = self._unwrap_seq(last_data_seq) if boot.started else None
        if boot.clock is not None:
            clock_us, stream_us = boot.clock
            t_stream = stream_us + (device_time_us - clock_us) % DEVICE_CLOCK_MODULO
        elif not boot.started or self._hi is None:
            t_stream = boot.t_offset_us + device_time_us
        else:
            # First page of this boot after frames: place it by the frames it follows.
            assert page_seq64 is not None
            ahead = max(0, page_seq64 - self._hi)
            lower = self._hi_end_us + ahead * self._hi_span_us - TIME_SLACK_US
            t_stream = unwrap_at_least(device_time_us % T_FIRST_MODULO, T_FIRST_MODULO, lower)
        boot.clock = (device_time_us, t_stream)
        if page_seq64 is not None:
            boot.page_bound = (page_seq64, t_stream)
            # Frames the insole sent after our newest one are missing too (a cut tail).
            if self._hi is not None and page_seq64 > self._hi:
                # They may still be in flight: a gap is recorded only when a newer frame
                # arrives first.
                anchor = (self._hi, self._hi_end_us)
                self._note_missing(self._hi + 1, page_seq64, anchor=anchor, record_gap=False)

    # -- data ----------------------------------------------------------------------------

    def place(self, frame: DataFrame) -> list[StreamFrame]:
        """Place one data frame. Returns it (or nothing for a duplicate or a held frame), with
        any held frames that a reset detected by this one releases."""
        if self._waiting is not None:
            self._waiting.append(frame)
            if len(self._waiting) < self.max_waiting_frames:
                return []
            return self.release_waiting()  # no page 0 came: assume the same boot
        if self._hi is None or not self._boot.started:
            return [self._place_first(frame)]
        seq64 = self._unwrap_seq(frame.seq)
        if seq64 > self._hi:
            return [self._place_newer(frame, seq64)]
        if seq64 in self._missing:
            return [self._place_late(frame, seq64)]
        known = self._recent.get(seq64)
        if known is None:
            # Older than the window, or given up: it still arrived, so it is recovered.
            return [self._place_late(frame, seq64)]
        if known[0] == frame.t_first_us:
            self.stats.duplicates += 1
            return []
        # Same number, other time: another boot's frame (a reset not yet announced by page 0).
        # Hold it until page 0 or more such frames decide.
        self.stats.contradicting += 1
        if len(self._evidence) < MAX_EVIDENCE_FRAMES:
            self._evidence.append(frame)
        if len(self._evidence) >= RESET_EVIDENCE_FRAMES:
            self.restart()
            return self._release_evidence()
        return []

    def _place_first(self, frame: DataFrame) -> StreamFrame:
        boot = self._boot
        seq64 = boot.seq_base + frame.seq
        if boot.page_bound is not None or boot.clock is not None:
            _, page_us = boot.page_bound or boot.clock or (0, 0)
            t_us = unwrap_near(frame.t_first_us, T_FIRST_MODULO, page_us - frame.span_us)
        else:
            t_us = boot.t_offset_us + frame.t_first_us
        if self._hi is not None and seq64 > self._hi + 1:
            # The boot's first frames: their times count from the boot's clock origin.
            self._note_missing(self._hi + 1, seq64 - 1, anchor=(self._hi, boot.t_offset_us))
        boot.started = True
        if self._first_placed is None:
            self._first_placed = (seq64, t_us)
        return self._advance(frame, seq64, t_us)

    def _place_newer(self, frame: DataFrame, seq64: int) -> StreamFrame:
        assert self._hi is not None
        skipped = seq64 - self._hi - 1
        # The skipped frames most likely held as many sets as their neighbours (the shorter
        # of the two: the rate may have changed in the gap) ...
        expected = self._hi_end_us + skipped * min(frame.span_us, self._hi_span_us)
        # ... and time never runs backwards; a frame newer than status page 1 began at most
        # one frame before the page was built (later if streaming stopped meanwhile).
        floor = self._hi_end_us - TIME_SLACK_US
        bound = self._boot.page_bound
        if bound is not None and bound[0] < seq64:
            floor = max(floor, bound[1] - frame.span_us - TIME_SLACK_US)
            expected = max(expected, floor + TIME_SLACK_US)
        t_us = unwrap_near(frame.t_first_us, T_FIRST_MODULO, expected)
        if t_us < floor:
            t_us = unwrap_at_least(t_us, T_FIRST_MODULO, floor)
        self._missing.pop(seq64, None)  # announced missing by page 1, yet in order
        self._requested.discard(seq64)
        if skipped:
            self._note_missing(self._hi + 1, seq64 - 1, anchor=(self._hi, self._hi_end_us))
        placed = self._advance(frame, seq64, t_us)
        self._expire()
        return placed

    def _place_late(self, frame: DataFrame, seq64: int) -> StreamFrame:
        anchor = self._missing.pop(seq64, None)
        self._requested.discard(seq64)
        assert self._hi is not None
        anchor_seq64, anchor_end_us = anchor or (self._hi - 1, self._hi_end_us - self._hi_span_us)
        expected_us = anchor_end_us + (seq64 - anchor_seq64 - 1) * frame.span_us
        t_us = unwrap_near(frame.t_first_us, T_FIRST_MODULO, expected_us)
        self.stats.late += 1
        self._remember(seq64, frame.t_first_us, t_us)
        return StreamFrame(frame, seq64, t_us, self._boot_index, late=True)

    def _advance(self, frame: DataFrame, seq64: int, t_us: int) -> StreamFrame:
        self._hi, self._hi_end_us, self._hi_span_us = seq64, t_us + frame.span_us, frame.span_us
        self.stats.frames += 1
        self._remember(seq64, frame.t_first_us, t_us)
        return StreamFrame(frame, seq64, t_us, self._boot_index, late=False)

    def _remember(self, seq64: int, t24: int, t_us: int) -> None:
        self._recent[seq64] = (t24, t_us)
        self._recent_order.append(seq64)
        while len(self._recent_order) > self.history_frames:
            self._recent.pop(self._recent_order.popleft(), None)

    # -- gaps and resends ----------------------------------------------------------------

    def _note_missing(
        self,
        first_seq64: int,
        last_seq64: int,
        *,
        anchor: tuple[int, float],
        record_gap: bool = True,
    ) -> None:
        """Frames first..last are missing; `anchor` is (seq64, end time) of the frame before."""
        # Frames already beyond the window are lost at once; memory stays bounded.
        oldest = max(first_seq64, last_seq64 - self.history_frames + 1)
        self.stats.lost += oldest - first_seq64
        for seq64 in range(oldest, last_seq64 + 1):
            self._missing.setdefault(seq64, anchor)
        if record_gap:
            self.gaps.append(Gap("missing", first_seq64, last_seq64, anchor[1]))

    def _expire(self) -> None:
        assert self._hi is not None
        floor = self._hi - self.history_frames
        # Keys go in ascending (gaps are noted at the newest end), so the first is the oldest.
        while self._missing and (seq64 := next(iter(self._missing))) < floor:
            del self._missing[seq64]
            self._requested.discard(seq64)
            self.stats.lost += 1

    def history_ranges(self, frames: int) -> list[tuple[int, int]]:
        """RESEND ranges (16-bit, inclusive) for the `frames` frames before the first one
        placed that have not come yet: what the insole took before the host listened.

        They are not counted missing (the insole may hold frames it cannot send on this link),
        so the caller asks a bounded number of times; any that come are placed as late."""
        if self._first_placed is None or frames <= 0:
            return []
        first_seq64 = self._first_placed[0]
        absent = [
            seq64
            for seq64 in range(first_seq64 - min(frames, self.history_frames), first_seq64)
            if seq64 not in self._recent
        ]
        return self._as_ranges(absent)

    def missing(self) -> int:
        """How many frames are missing now (noticed, not yet arrived nor given up)."""
        return len(self._missing)

    def missing_seq64(self) -> list[int]:
        return sorted(self._missing)

    def resend_ranges(self, *, again: bool = False) -> list[tuple[int, int]]:
        """(first_seq, last_seq) RESEND arguments (16-bit, inclusive) for the missing frames.

        A range is returned once, then counts as requested; `again=True` returns every
        missing frame (after a timeout or a failed request).
        """
        wanted = [s for s in sorted(self._missing) if again or s not in self._requested]
        self._requested.update(wanted)
        return self._as_ranges(wanted)

    def _as_ranges(self, seq64s: list[int]) -> list[tuple[int, int]]:
        """Sorted seq64 values as inclusive 16-bit (first, last) ranges of this boot."""
        ranges: list[tuple[int, int]] = []
        for seq64 in seq64s:
            if ranges and seq64 == ranges[-1][1] + 1 and seq64 - ranges[-1][0] < SEQ_MODULO - 1:
                ranges[-1] = (ranges[-1][0], seq64)
            else:
                ranges.append((seq64, seq64))
        base = self._boot.seq_base
        return [((first - base) % SEQ_MODULO, (last - base) % SEQ_MODULO) for first, last in ranges]

    def give_up(self, first_seq: int, last_seq: int) -> int:
        """The insole does not hold frames first_seq..last_seq (16-bit): count them lost."""
        if self._hi is None:
            return 0
        first64 = self._unwrap_seq(first_seq)
        last64 = first64 + (last_seq - first_seq) % SEQ_MODULO
        dropped = [s for s in self._missing if first64 <= s <= last64]
        for seq64 in dropped:
            del self._missing[seq64]
            self._requested.discard(seq64)
        self.stats.lost += len(dropped)
        return len(dropped)

    def resend_refused_before(self, oldest_seq_held: int) -> int:
        """A RESEND reply said the ring starts at `oldest_seq_held`: older missing are lost."""
        if self._hi is None:
            return 0
        oldest64 = self._unwrap_seq(oldest_seq_held)
        lost = [s for s in self._missing if s < oldest64]
        for seq64 in lost:
            del self._missing[seq64]
            self._requested.discard(seq64)
        self.stats.lost += len(lost)
        return len(lost)

    # -- resets --------------------------------------------------------------------------

    def restart(self, boot_id: int | None = None) -> None:
        """The insole restarted: its numbers and clock begin again. Missing frames are lost."""
        self.stats.resets += 1
        self.stats.lost += len(self._missing)
        self._missing.clear()
        self._requested.clear()
        self._recent.clear()
        self._recent_order.clear()
        if self._hi is not None:
            self.gaps.append(Gap("reset", self._hi + 1, self._hi, self._hi_end_us))
        # The new clock starts near 0: continue the timeline from the next 2^24 boundary, so
        # the stream time stays congruent to the wire's 24-bit time.
        t_offset = unwrap_at_least(0, T_FIRST_MODULO, self._hi_end_us)
        seq_base = 0 if self._hi is None else self._hi + 1
        self._boot = _Boot(t_offset_us=t_offset, seq_base=seq_base, boot_id=boot_id)
        self._boot_index += 1

    def _release_evidence(self) -> list[StreamFrame]:
        held, self._evidence = sorted(self._evidence, key=lambda f: f.seq), []
        placed: list[StreamFrame] = []
        for frame in held:
            placed += self.place(frame)
        return placed

    # -- helpers -------------------------------------------------------------------------

    def _unwrap_seq(self, seq: int) -> int:
        """seq64 of a 16-bit seq of the current boot: the nearest to the newest frame."""
        base = self._boot.seq_base
        if self._hi is None or self._hi < base:
            return base + seq
        return self._hi + seq_delta(seq, self._hi - base)

    def unwrap_device_time(self, device_time_us: int) -> float | None:
        """Stream time of a 32-bit device clock value of this boot (e.g. a TIME_SYNC reply),
        once a status page 1 has tied the clock to the stream; None before that."""
        if self._boot.clock is None:
            return None
        clock_us, stream_us = self._boot.clock
        delta = (device_time_us - clock_us + DEVICE_CLOCK_MODULO // 2) % DEVICE_CLOCK_MODULO
        return float(stream_us + delta - DEVICE_CLOCK_MODULO // 2)

    @property
    def boot(self) -> int:
        return self._boot_index

    @property
    def boot_id(self) -> int | None:
        return self._boot.boot_id

    @property
    def newest_seq64(self) -> int | None:
        return self._hi
