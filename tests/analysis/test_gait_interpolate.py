"""The contact detector's batched crossing times equal its one-at-a-time ones, to the bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.analysis.gait import _interpolate, _interpolate_many

# Loads as the detector sees them: kPa to 0.01 (a pad's resolution is coarser), or missing.
# (Arbitrary doubles would overflow the single version's numpy scalar division.)
_KPA = st.integers(-5_000, 200_000).map(lambda v: v / 100)
_LOAD = st.one_of(_KPA, st.just(float("nan")), st.sampled_from([0.0, 100.0]))


@settings(max_examples=300, deadline=None)
@given(
    load=st.lists(_LOAD, min_size=1, max_size=30),
    picks=st.lists(
        st.tuples(st.integers(-3, 33), st.one_of(_KPA.map(lambda v: v + 0.005), _LOAD)), max_size=20
    ),
)
def test_each_batched_crossing_is_the_single_one(
    load: list[float], picks: list[tuple[int, float]]
) -> None:
    t_s = 12.0 + np.arange(len(load)) / 100.0
    values = np.array(load)
    k = np.array([p[0] for p in picks], dtype=np.int64)
    level = np.array([p[1] for p in picks], dtype=np.float64)
    batched = _interpolate_many(t_s, values, k, level)
    single = [_interpolate(t_s, values, int(a), float(b)) for a, b in picks]
    assert [repr(v) for v in batched] == [repr(v) for v in single]
