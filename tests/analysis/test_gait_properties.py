"""Property tests of the contact detector: any signal, any gaps, any chunking."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.analysis.gait import ContactDetector
from numbguard.types import PressureChunk, StepMetrics


def _steps(t_s: np.ndarray, pads: dict[str, np.ndarray], cuts: list[int]) -> list[StepMetrics]:
    detector = ContactDetector("right", block_s=0.5, window_s=2.0)
    steps: list[StepMetrics] = []
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(t_s))), len(t_s)]
    for start, stop in itertools.pairwise(bounds):
        chunk = PressureChunk(
            "right", t_s[start:stop], {p: v[start:stop] for p, v in pads.items()}, 100.0
        )
        steps += detector.update(chunk)
    return steps + detector.finish()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 1500),
    stride_s=st.floats(0.4, 2.0),
    nan_share=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
    cuts=st.lists(st.integers(0, 1500), max_size=12),
)
def test_any_signal_gives_ordered_plausible_steps_whatever_the_chunking(
    seed: int, n: int, stride_s: float, nan_share: float, cuts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    t_s = np.arange(n) / 100.0
    stepping = 200 * np.maximum(np.sin(2 * np.pi * t_s / stride_s), 0)
    pads = {
        "heel": stepping + rng.normal(0, rng.uniform(0, 60), n),
        "ball_center": rng.uniform(0, 300, n) * rng.integers(0, 2),
        "lace_lower": rng.normal(20, 5, n),
    }
    for values in pads.values():
        values[rng.random(n) < nan_share] = np.nan
    steps = _steps(t_s, pads, cuts)
    assert steps == _steps(t_s, pads, [])
    detector = ContactDetector("right")
    previous: StepMetrics | None = None
    for step in steps:
        assert t_s[0] <= step.t_on_s < step.t_off_s <= t_s[-1]
        assert detector.min_contact_s <= step.contact_s <= detector.max_contact_s
        if previous is not None:
            assert step.t_on_s > previous.t_off_s
            if step.stride_s is not None:
                assert abs(step.stride_s - (step.t_on_s - previous.t_on_s)) < 1e-9
        assert all(np.isfinite(v) for v in step.peak_kpa.values())
        assert all(np.isfinite(v) for v in step.pti_kpa_s.values())
        previous = step
