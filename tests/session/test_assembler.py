"""The sample assembler: in-order release with hold, gaps filled by late frames or NaN."""

from __future__ import annotations

import numpy as np

from numbguard.protocol.frames import DataFrame
from numbguard.protocol.stream import StreamFrame
from numbguard.session.assembler import SampleAssembler, SampleBlock

RATE_HZ = 100
SETS = 10  # 0.1 s per frame


def _frame(seq: int) -> StreamFrame:
    samples = (np.arange(SETS * 2).reshape(SETS, 2) + seq * 100) % 4096
    frame = DataFrame(pad_mask=0b101, seq=seq, t_first_us=0, rate_hz=RATE_HZ, samples=samples)
    return StreamFrame(frame, seq, 5_000_000 + seq * 100_000, 0, late=False)


def _grid(blocks: list[SampleBlock]) -> np.ndarray:
    if not blocks:
        return np.empty((0, 2))
    return np.concatenate([b.counts for b in blocks])


def test_in_order_frames_come_out_in_order_after_the_hold() -> None:
    assembler = SampleAssembler(hold_s=0.5, start_hold_s=0.0)
    released: list[SampleBlock] = []
    for seq in range(20):
        released += assembler.add(_frame(seq), seq * 0.1)
    # 2 s of frames, 0.5 s held back.
    assert sum(len(b.counts) for b in released) == 150
    released += assembler.flush()
    grid = _grid(released)
    assert grid.shape == (200, 2)
    expected = np.concatenate([_frame(seq).frame.samples for seq in range(20)])
    np.testing.assert_array_equal(grid, expected)
    assert assembler.pads == ("heel", "ball_center")


def test_late_frame_within_the_wait_fills_its_gap() -> None:
    assembler = SampleAssembler(hold_s=0.2, max_wait_s=5.0, start_hold_s=0.0)
    released: list[SampleBlock] = []
    order = [0, 1, 2, 4, 5, 6, 7, 8, 3, 9, 10]  # frame 3 recovered by a resend
    for i, seq in enumerate(order):
        released += assembler.add(_frame(seq), i * 0.1)
    released += assembler.flush()
    grid = _grid(released)
    assert not np.isnan(grid).any()
    np.testing.assert_array_equal(grid[30:40], _frame(3).frame.samples)
    assert assembler.stats.samples_missing == 0


def test_gap_is_released_as_missing_after_the_wait_and_a_later_copy_is_dropped() -> None:
    assembler = SampleAssembler(hold_s=0.2, max_wait_s=1.0, start_hold_s=0.0)
    released: list[SampleBlock] = []
    t_s = 0.0
    for seq in [0, 1, *range(3, 30)]:
        released += assembler.add(_frame(seq), t_s)
        t_s += 0.1
    released += assembler.add(_frame(2), t_s)  # far too late
    released += assembler.flush()
    grid = _grid(released)
    assert grid.shape == (300, 2)
    assert np.isnan(grid[20:30]).all()
    assert not np.isnan(np.delete(grid, range(20, 30), axis=0)).any()
    assert assembler.stats.samples_missing == 10
    assert assembler.stats.frames_too_late == 1


def test_release_depends_only_on_receive_times_so_replay_matches() -> None:
    order = [0, 2, 3, 1, 4, 6, 7, 8, 9, 10, 11, 12, 5, 13]
    runs = []
    for _ in range(2):
        assembler = SampleAssembler(hold_s=0.1, max_wait_s=0.3, start_hold_s=0.0)
        out = []
        for i, seq in enumerate(order):
            out.append(
                [(b.first_index, b.counts.tobytes()) for b in assembler.add(_frame(seq), i * 0.1)]
            )
        runs.append(out)
    assert runs[0] == runs[1]


def test_frame_with_another_rate_is_counted_not_mixed_in() -> None:
    assembler = SampleAssembler()
    assembler.add(_frame(0), 0.0)
    other = DataFrame(
        pad_mask=0b101, seq=1, t_first_us=0, rate_hz=50, samples=np.zeros((5, 2), dtype=np.uint16)
    )
    assert assembler.add(StreamFrame(other, 1, 5_100_000, 0, late=False), 0.1) == []
    assert assembler.stats.frames_other_format == 1


def _frame_at(seq: int, t_first_us: int, boot: int = 0) -> StreamFrame:
    samples = np.full((SETS, 2), seq % 4096)
    frame = DataFrame(pad_mask=0b101, seq=seq, t_first_us=0, rate_hz=RATE_HZ, samples=samples)
    return StreamFrame(frame, seq, t_first_us, boot, late=False)


def test_slots_the_insole_skipped_are_released_at_once_not_waited_for() -> None:
    assembler = SampleAssembler(hold_s=0.0, max_wait_s=1000.0, start_hold_s=0.0)
    released = assembler.add(_frame_at(0, 0), 0.0)
    # Frame 1 starts 3 samples late: the insole skipped 3 slots, no frame is missing.
    released += assembler.add(_frame_at(1, 130_000), 0.1)
    released += assembler.add(_frame_at(2, 230_000), 0.2)
    grid = _grid(released)
    assert grid.shape == (33, 2)
    assert np.isnan(grid[10:13]).all() and not np.isnan(grid[13:]).any()
    assert assembler.stats.samples_skipped == 3 and assembler.stats.samples_missing == 0


def test_a_new_boot_goes_where_the_caller_places_it_and_the_restart_is_not_waited_for() -> None:
    assembler = SampleAssembler(hold_s=0.0, max_wait_s=1000.0, start_hold_s=0.0)
    released = assembler.add(_frame_at(0, 0), 0.0)
    released += assembler.add(_frame_at(1, 100_000), 0.1)
    # The insole restarted: its clock starts again, far from the old one on the stream.
    assembler.start_boot(1, 16_777_216, 50)
    released += assembler.add(_frame_at(2, 16_777_216, boot=1), 0.6)
    released += assembler.add(_frame_at(3, 16_877_216, boot=1), 0.7)
    grid = _grid(released)
    assert grid.shape == (70, 2)
    assert np.isnan(grid[20:50]).all()
    assert (grid[50:60] == 2).all() and (grid[60:70] == 3).all()
    assert assembler.stats.samples_skipped == 30


def test_frames_from_before_the_first_one_heard_extend_the_grid_during_the_start_hold() -> None:
    assembler = SampleAssembler(hold_s=0.0, start_hold_s=1.0)
    released = assembler.add(_frame(5), 0.0)  # the first frame heard
    released += assembler.add(_frame(6), 0.1)
    # The insole's history, asked for when frame 5 came: frames 2-4, taken before it.
    for seq in (2, 3, 4):
        released += assembler.add(_frame(seq), 0.2)
    assert released == []  # nothing before the start hold has passed
    for seq in range(7, 12):
        released += assembler.add(_frame(seq), 1.0 + seq * 0.1)
    grid = _grid(released)
    assert released[0].first_index == -30  # three frames before grid sample 0
    expected = np.concatenate([_frame(seq).frame.samples for seq in range(2, 12)])
    np.testing.assert_array_equal(grid, expected)
    # Once samples are out, an older frame is too late.
    assert assembler.add(_frame(1), 3.0) == [] and assembler.stats.frames_too_late == 1
