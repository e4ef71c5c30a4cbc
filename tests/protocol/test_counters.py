"""Status counters: uint16 on the wire, running totals on the host across wraps and restarts."""

from __future__ import annotations

from numbguard.protocol.counters import CounterTotals
from numbguard.protocol.frames import StatusCounters, StatusIdentity, StatusTiming


def counters(sent: int, dropped: int = 0) -> StatusCounters:
    return StatusCounters(pad_mask=0x3F, frames_sent=sent, frames_resent=0,
                          frames_dropped=dropped, notify_retries=0, ring_frames=10,
                          ring_span_ds=25)  # fmt: skip


def identity(boot_id: int) -> StatusIdentity:
    return StatusIdentity(pad_mask=0x3F, insole_id=1, boot_id=boot_id, fw_major=1, fw_minor=0,
                          fw_patch=0, rate_hz=100, flags=1)  # fmt: skip


def test_totals_run_across_wraps() -> None:
    totals = CounterTotals()
    totals.on_status(identity(7))
    for sent in (100, 30_000, 65_000, 500, 40_000, 10):  # wraps twice
        totals.on_status(counters(sent))
    assert totals.totals["frames_sent"] == 2 * 65_536 + 10


def test_restart_counts_from_zero_and_levels_are_not_counters() -> None:
    totals = CounterTotals()
    totals.on_status(identity(7))
    totals.on_status(counters(1000, dropped=3))
    totals.on_status(identity(7))  # same boot: nothing changes
    totals.on_status(counters(1200, dropped=3))
    totals.on_status(identity(8))  # restarted
    totals.on_status(counters(50, dropped=1))
    assert totals.totals["frames_sent"] == 1250
    assert totals.totals["frames_dropped"] == 4
    assert "ring_frames" not in totals.totals


def test_late_samples_from_the_timing_page() -> None:
    totals = CounterTotals()
    for late in (2, 5, 5, 1):  # the last wrapped
        totals.on_status(StatusTiming(pad_mask=1, jitter_mean_us=10, jitter_max_us=90,
                                      late_samples=late, fault_open_mask=0,
                                      fault_short_mask=0))  # fmt: skip
    assert totals.totals["late_samples"] == 65_536 + 1
