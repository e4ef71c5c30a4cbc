"""Clock alignment: time-sync round trips with drift, the frame envelope, token round trip."""

from __future__ import annotations

import numpy as np
import pytest

from numbguard.protocol.time_sync import ClockAligner, host_time_from_token, token_from_host_time


def test_token_round_trips_across_the_32_bit_wrap() -> None:
    for t_send_s in (0.0, 12.345678, 4294.967295, 4294.9673, 10_000.123456):
        token = token_from_host_time(t_send_s)
        assert host_time_from_token(token, t_send_s + 0.08) == pytest.approx(t_send_s, abs=1e-6)


def test_sync_recovers_offset_and_drift_to_a_millisecond_over_an_hour() -> None:
    rng = np.random.default_rng(7)
    offset_s, drift = 1234.5, 40e-6  # host = device * (1 + drift) + offset
    aligner = ClockAligner()
    for t_device_s in np.arange(0.0, 3600.0, 10.0):
        true_host_s = t_device_s * (1 + drift) + offset_s
        uplink_s, downlink_s = rng.uniform(0.005, 0.06, size=2)
        aligner.add_sync(true_host_s - uplink_s, true_host_s + downlink_s, float(t_device_s))
    for t_device_s in (5.0, 1800.0, 3599.0):
        expected = t_device_s * (1 + drift) + offset_s
        assert aligner.to_host_s(t_device_s) == pytest.approx(expected, abs=0.03)
    # A symmetric link gives far better than the round trip: check the typical error too.
    errors = [
        abs(aligner.to_host_s(t) - (t * (1 + drift) + offset_s)) for t in np.arange(0, 3600, 60.0)
    ]
    assert float(np.median(errors)) < 0.01


def test_slow_round_trips_are_ignored() -> None:
    aligner = ClockAligner()
    aligner.add_sync(10.0, 10.02, 0.0)
    aligner.add_sync(20.0, 23.0, 5.0)  # 3 s round trip: the link was stalled
    assert aligner.to_host_s(1.0) == pytest.approx(11.01)


def test_frame_envelope_gives_offset_plus_smallest_latency() -> None:
    rng = np.random.default_rng(3)
    aligner = ClockAligner()
    for t_device_s in np.arange(0.0, 60.0, 0.25):
        aligner.add_frame(t_device_s + 100.0 + rng.uniform(0.008, 0.2), float(t_device_s))
    assert 100.008 <= aligner.to_host_s(0.0) < 100.02


def test_without_evidence_device_time_is_used_as_is() -> None:
    assert ClockAligner().to_host_s(42.0) == 42.0
