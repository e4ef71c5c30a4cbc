"""Stream reassembly: 64-bit sequence and time across wraps, gaps and resends, resets."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import PROPERTY_SETTINGS

from numbguard.protocol import DataFrame, StatusClock, StatusIdentity
from numbguard.protocol.stream import (
    RESET_EVIDENCE_FRAMES,
    Gap,
    InsoleStream,
    StreamFrame,
    seq_delta,
    unwrap_at_least,
    unwrap_near,
)

SPAN_US = 250_000  # 25 sets at 100 Hz


def frame(seq64: int, t_us: int, *, n_sets: int = 25, rate_hz: int = 100) -> DataFrame:
    """The frame an insole sends for frame number seq64 whose first set was at device t_us."""
    return DataFrame(pad_mask=0b11, seq=seq64 % 65536, t_first_us=t_us % (1 << 24),
                     rate_hz=rate_hz, samples=np.full((n_sets, 2), seq64 % 4096))  # fmt: skip


def clock_page(device_time_us: int, last_data_seq: int) -> StatusClock:
    return StatusClock(pad_mask=0b11, device_time_us=device_time_us % (1 << 32),
                       battery_mv=3900, battery_pct=90, last_data_seq=last_data_seq % 65536,
                       oversample=1)  # fmt: skip


def identity_page(boot_id: int) -> StatusIdentity:
    return StatusIdentity(pad_mask=0b11, insole_id=0x1234, boot_id=boot_id, fw_major=1,
                          fw_minor=0, fw_patch=0, rate_hz=100, flags=1)  # fmt: skip


def place_one(stream: InsoleStream, f: DataFrame) -> StreamFrame:
    (placed,) = stream.place(f)
    return placed


N_FRAMES = 150
T0_US = 3_000_000_123  # the device has been up for 50 min: its 32-bit clock is well along


def test_unwrap_helpers() -> None:
    assert unwrap_near(5, 100, 1003) == 1005
    assert unwrap_near(95, 100, 1003) == 995
    assert unwrap_at_least(95, 100, 1003) == 1095
    assert unwrap_at_least(3, 100, 1003) == 1003
    assert [seq_delta(s, 65535) for s in (0, 65534, 32766)] == [1, -1, 32767]


def test_in_order_frames_unwrap_across_seq_and_clock_wraps() -> None:
    stream = InsoleStream()
    first_seq = 65_500  # the 16-bit seq wraps after 36 frames; the 24-bit clock every 67
    placed = [
        place_one(stream, frame(seq, T0_US + (seq - first_seq) * SPAN_US))
        for seq in range(first_seq, first_seq + 300)
    ]
    assert [p.seq64 for p in placed] == list(range(first_seq, first_seq + 300))
    t0 = placed[0].t_first_us
    assert [p.t_first_us - t0 for p in placed] == [i * SPAN_US for i in range(300)]
    assert t0 % (1 << 24) == T0_US % (1 << 24)
    assert not any(p.late for p in placed) and stream.missing() == 0 and stream.gaps == []


def test_gap_gives_resend_ranges_and_late_frames_fill_it_exactly() -> None:
    stream = InsoleStream()
    lost = {10, 11, 12, 40}
    for seq in range(60):
        if seq not in lost:
            stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.missing() == 4
    assert stream.resend_ranges() == [(10, 12), (40, 40)]
    assert stream.resend_ranges() == []  # already asked
    assert stream.resend_ranges(again=True) == [(10, 12), (40, 40)]
    assert [(g.reason, g.first_seq64, g.last_seq64, g.frames) for g in stream.gaps] == [
        ("missing", 10, 12, 3),
        ("missing", 40, 40, 1),
    ]
    t0 = T0_US % (1 << 24)
    for seq in (12, 40, 10, 11):  # resent, in any order
        placed = place_one(stream, frame(seq, T0_US + seq * SPAN_US))
        assert placed.late and placed.seq64 == seq
        assert placed.t_first_us == t0 + seq * SPAN_US
    assert stream.missing() == 0
    assert stream.stats.late == 4 and stream.stats.frames == 56


def test_resend_ranges_wrap_with_the_16_bit_seq() -> None:
    stream = InsoleStream()
    for seq in (65533, 65534, 2, 3):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.resend_ranges() == [(65535, 1)]


def test_long_link_loss_is_timed_by_the_sequence() -> None:
    stream = InsoleStream()
    a = place_one(stream, frame(0, T0_US))
    # 400 frames (100 s, six clock wraps) lost with the link; the device kept sampling.
    b = place_one(stream, frame(401, T0_US + 401 * SPAN_US))
    assert b.t_first_us - a.t_first_us == 401 * SPAN_US
    assert stream.missing() == 400


def test_rate_change_inside_a_gap() -> None:
    stream = InsoleStream()
    t = T0_US
    for seq in range(5):
        stream.place(frame(seq, t))
        t += SPAN_US
    # Frames 5-9 (lost) and 10 on are at 200 Hz: 25 sets take 125 ms.
    t += 5 * 125_000
    placed = place_one(stream, frame(10, t, rate_hz=200))
    assert placed.t_first_us == T0_US % (1 << 24) + 5 * SPAN_US + 5 * 125_000


def test_short_frames_inside_a_gap() -> None:
    # Late samples end frames early: the 20 lost frames held 1 set each, not 25 (4.8 s less
    # than the sequence suggests).
    stream = InsoleStream()
    a = place_one(stream, frame(0, T0_US))
    b = place_one(stream, frame(21, T0_US + SPAN_US + 20 * 10_000))
    assert b.t_first_us - a.t_first_us == SPAN_US + 20 * 10_000


def test_short_stop_without_a_page_is_placed_by_the_sequence_alone() -> None:
    stream = InsoleStream()
    a = place_one(stream, frame(0, T0_US))
    b = place_one(stream, frame(1, T0_US + SPAN_US + 12_000_000))  # STOP, 12 s, START
    assert b.t_first_us - a.t_first_us == SPAN_US + 12_000_000


def test_duplicates_are_dropped() -> None:
    stream = InsoleStream()
    for seq in range(5):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.place(frame(3, T0_US + 3 * SPAN_US)) == []
    assert stream.stats.duplicates == 1 and stream.stats.frames == 5


def test_stop_longer_than_the_24_bit_clock_is_placed_by_status_page_1() -> None:
    def run(with_pages: bool) -> list[StreamFrame]:
        stream = InsoleStream()
        placed = [place_one(stream, frame(seq, T0_US + seq * SPAN_US)) for seq in range(10)]
        stop_end_us = T0_US + 10 * SPAN_US + 60_000_000  # streaming stopped for 60 s
        if with_pages:
            for page_t in range(T0_US + 10 * SPAN_US, stop_end_us, 5_000_000):
                stream.on_status(clock_page(page_t, last_data_seq=9))
        placed += [
            place_one(stream, frame(seq, stop_end_us + (seq - 10) * SPAN_US))
            for seq in range(10, 15)
        ]
        return placed

    placed = run(with_pages=True)
    offsets = [p.t_first_us - placed[0].t_first_us for p in placed]
    assert offsets[10:] == [10 * SPAN_US + 60_000_000 + i * SPAN_US for i in range(5)]
    # Without a page the stop's length is unknowable past 16.78 s; time still moves forward.
    blind = run(with_pages=False)
    assert blind[10].t_first_us >= blind[9].t_end_us
    assert [b.seq64 for b in blind] == list(range(15))


def test_page_1_reports_a_cut_tail_for_resending() -> None:
    stream = InsoleStream()
    for seq in range(10):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    stream.on_status(clock_page(T0_US + 13 * SPAN_US, last_data_seq=12))
    assert stream.resend_ranges() == [(10, 12)]
    # Frames still in flight when the page was built arrive in order: not late.
    placed = [place_one(stream, frame(seq, T0_US + seq * SPAN_US)) for seq in (10, 11, 13)]
    assert [(p.seq64, p.late) for p in placed] == [(10, False), (11, False), (13, False)]
    assert stream.resend_ranges(again=True) == [(12, 12)]
    assert stream.gaps == [Gap("missing", 12, 12, float(T0_US % (1 << 24) + 12 * SPAN_US))]
    assert place_one(stream, frame(12, T0_US + 12 * SPAN_US)).late
    assert stream.missing() == 0


def test_device_time_of_a_time_sync_reply_is_put_on_the_stream() -> None:
    stream = InsoleStream()
    assert stream.unwrap_device_time(T0_US) is None
    first = place_one(stream, frame(0, T0_US))
    stream.on_status(clock_page(T0_US + 300_000, last_data_seq=0))
    assert stream.unwrap_device_time(T0_US + 200_000) == first.t_first_us + 200_000


def test_page_1_first_anchors_the_full_32_bit_clock() -> None:
    stream = InsoleStream()
    stream.on_status(clock_page(T0_US, last_data_seq=0))
    placed = place_one(stream, frame(0, T0_US - 100_000))
    assert placed.t_first_us == T0_US - 100_000


def test_reset_announced_by_page_0_starts_a_new_boot() -> None:
    stream = InsoleStream()
    stream.on_status(identity_page(boot_id=111))
    for seq in range(100):
        if seq != 50:
            stream.place(frame(seq, T0_US + seq * SPAN_US))
    old_end = T0_US % (1 << 24) + 100 * SPAN_US
    assert stream.on_status(identity_page(boot_id=111)) == []  # same boot: nothing happens
    assert stream.on_status(identity_page(boot_id=222)) == []
    assert stream.boot == 1 and stream.boot_id == 222
    assert stream.stats.lost == 1 and stream.missing() == 0  # frame 50 died with the ring
    # The new boot counts from 0 on a clock that restarted; frames 0-2 were not seen.
    placed = [place_one(stream, frame(seq, 1_500_000 + seq * SPAN_US)) for seq in range(3, 6)]
    assert [p.seq64 for p in placed] == [103, 104, 105]
    assert all(p.boot == 1 for p in placed)
    assert placed[0].t_first_us >= old_end
    assert [p.t_first_us - placed[0].t_first_us for p in placed] == [0, SPAN_US, 2 * SPAN_US]
    assert stream.gaps[-2] == Gap("reset", 100, 99, float(old_end))
    assert stream.resend_ranges() == [(0, 2)]  # the new boot's first frames, by their seq
    recovered = place_one(stream, frame(1, 1_500_000 + SPAN_US))
    assert recovered.late and recovered.seq64 == 101
    assert recovered.t_first_us == placed[0].t_first_us - 2 * SPAN_US


def test_reset_inferred_from_frames_that_contradict_received_ones() -> None:
    stream = InsoleStream()
    stream.on_status(identity_page(boot_id=111))
    for seq in range(200):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    # The insole restarted and its page 0 was lost: frames 0, 1, 2 again, at other times.
    released: list[StreamFrame] = []
    for seq in range(RESET_EVIDENCE_FRAMES):
        released += stream.place(frame(seq, 2_000_000 + seq * SPAN_US))
    assert [p.seq64 for p in released] == [200, 201, 202]
    assert stream.boot == 1 and stream.stats.resets == 1
    assert stream.stats.contradicting == RESET_EVIDENCE_FRAMES
    stream.on_status(identity_page(boot_id=333))  # page 0 of the new boot: already known
    assert stream.boot == 1 and stream.boot_id == 333


def test_a_single_contradicting_frame_is_dropped_when_page_0_says_same_boot() -> None:
    stream = InsoleStream()
    stream.on_status(identity_page(boot_id=111))
    for seq in range(20):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.place(frame(5, 12345)) == []
    assert stream.on_status(identity_page(boot_id=111)) == []
    assert stream.boot == 0
    assert [p.seq64 for p in stream.place(frame(20, T0_US + 20 * SPAN_US))] == [20]


def test_reconnection_holds_frames_until_page_0_names_their_boot() -> None:
    stream = InsoleStream()
    stream.on_status(identity_page(boot_id=111))
    for seq in range(100):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    old_end = stream.place(frame(100, T0_US + 100 * SPAN_US))[0].t_end_us
    # The link dropped; the insole restarted and has sent 300 frames by the reconnection:
    # their numbers run ahead of the old boot's, so without page 0 they would pass for it.
    stream.hold_until_identity()
    assert stream.place(frame(300, 75_000_000)) == []
    assert stream.place(frame(301, 75_000_000 + SPAN_US)) == []
    placed = stream.on_status(identity_page(boot_id=222))
    assert [(p.seq64, p.boot) for p in placed] == [(401, 1), (402, 1)]
    assert placed[0].t_first_us >= old_end
    assert placed[1].t_first_us - placed[0].t_first_us == SPAN_US
    assert stream.place(frame(302, 75_000_000 + 2 * SPAN_US))[0].seq64 == 403


def test_reconnection_to_the_same_boot_releases_frames_in_place() -> None:
    stream = InsoleStream(max_waiting_frames=3)
    stream.on_status(identity_page(boot_id=111))
    for seq in range(10):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    stream.hold_until_identity()
    assert stream.place(frame(15, T0_US + 15 * SPAN_US)) == []
    placed = stream.on_status(identity_page(boot_id=111))
    assert [(p.seq64, p.boot) for p in placed] == [(15, 0)]
    assert stream.missing() == 5
    # Without page 0, holding stops at max_waiting_frames and assumes the same boot.
    stream.hold_until_identity()
    assert stream.place(frame(16, T0_US + 16 * SPAN_US)) == []
    assert stream.place(frame(17, T0_US + 17 * SPAN_US)) == []
    assert [p.seq64 for p in stream.place(frame(18, T0_US + 18 * SPAN_US))] == [16, 17, 18]


def test_give_up_and_ring_start_count_frames_lost() -> None:
    stream = InsoleStream()
    for seq in (0, 10, 20):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.missing() == 18
    assert stream.give_up(1, 4) == 4
    assert stream.resend_refused_before(oldest_seq_held=8) == 3  # 5, 6, 7
    assert stream.missing_seq64() == [8, 9, *range(11, 20)]
    assert stream.stats.lost == 7


def test_missing_frames_beyond_the_window_expire_as_lost() -> None:
    stream = InsoleStream(history_frames=50)
    stream.place(frame(0, T0_US))
    stream.place(frame(5, T0_US + 5 * SPAN_US))
    for seq in range(6, 60):
        stream.place(frame(seq, T0_US + seq * SPAN_US))
    assert stream.missing() == 0 and stream.stats.lost == 4
    # A jump longer than the window counts the far end lost at once.
    stream.place(frame(200, T0_US + 200 * SPAN_US))
    assert stream.missing() == 50 and stream.stats.lost == 4 + 90


@pytest.mark.parametrize("n_sets", [1, 7, 25])
def test_sample_times(n_sets: int) -> None:
    stream = InsoleStream()
    placed = place_one(stream, frame(0, 1000, n_sets=n_sets))
    times = placed.sample_times_us()
    assert times.tolist() == [1000 + 10_000 * i for i in range(n_sets)]
    assert placed.t_end_us == 1000 + 10_000 * n_sets


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(
    first_seq=st.integers(0, 65535),
    t0_us=st.integers(0, (1 << 32) - 1),
    n_sets=st.integers(1, 25),
    rate_hz=st.sampled_from([25, 50, 100, 200]),
    lost=st.sets(st.integers(1, N_FRAMES - 1), max_size=50),
    seed=st.integers(0, 1000),
)
def test_any_loss_pattern_is_recovered_exactly(
    first_seq: int, t0_us: int, n_sets: int, rate_hz: int, lost: set[int], seed: int
) -> None:
    span_us = n_sets * 1_000_000 // rate_hz
    frames = [
        frame(first_seq + i, t0_us + i * span_us, n_sets=n_sets, rate_hz=rate_hz)
        for i in range(N_FRAMES)
    ]
    stream = InsoleStream()
    placed = [p for i, f in enumerate(frames) if i not in lost for p in stream.place(f)]
    newest = max(set(range(N_FRAMES)) - lost)
    assert stream.missing() == sum(1 for i in lost if i < newest)
    for i in random.Random(seed).sample(sorted(lost), len(lost)):
        placed += stream.place(frames[i])
    assert stream.missing() == 0 and stream.stats.lost == 0
    by_seq = {p.seq64 - first_seq: p for p in placed}
    assert sorted(by_seq) == list(range(N_FRAMES))
    assert {i for i, p in by_seq.items() if p.late} == {i for i in lost if i < newest}
    assert all(by_seq[i].t_first_us - by_seq[0].t_first_us == i * span_us for i in range(N_FRAMES))
    # Answers to repeated requests bring frames twice: the second copy is dropped.
    for i in sorted(lost)[:10]:
        assert stream.place(frames[i]) == []
    assert stream.stats.duplicates == min(10, len(lost))


def test_history_before_the_first_frame_is_asked_for_but_not_counted_missing() -> None:
    stream = InsoleStream()
    # The host first hears frame 40: the insole took frames 30-39 before anyone listened.
    stream.place(frame(40, 10_000_000))
    assert stream.history_ranges(10) == [(30, 39)]
    assert stream.missing() == 0  # the insole may not be able to send them: not a gap
    # Two of them come (late, placed before the first), the rest is asked for again.
    for seq64 in (35, 36):
        (placed,) = stream.place(frame(seq64, 10_000_000 - (40 - seq64) * 250_000))
        assert placed.late and placed.t_first_us == 10_000_000 - (40 - seq64) * 250_000
    assert stream.history_ranges(10) == [(30, 34), (37, 39)]
    assert stream.history_ranges(0) == [] and InsoleStream().history_ranges(10) == []
