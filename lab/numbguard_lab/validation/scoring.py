"""Scoring detected contacts against reference gait events (for validation on recorded walks).

A reference event is a foot strike time; the record's reference stance times give the
contact time to compare with. A detected contact matches a strike when the strike lies in
``[t_on_s - late_onset_s, t_off_s]``: the contact holds the strike, or starts at most
`late_onset_s` after it (with forefoot pads only the heel strike is invisible and the contact
starts at foot flat). Each contact and each strike match at most once, in time order.

Only detections that start inside the scored span (first strike - `margin_s` to last
strike + `margin_s`) and do not overlap `excluded` intervals (reference segments that are
not steps) count.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from numbguard.types import FloatArray


@dataclass(frozen=True)
class ContactScore:
    """How detected contacts compare with the reference of one record and foot."""

    n_reference: int
    n_detected: int
    n_matched: int
    recall: float
    precision: float
    onset_error_s_median: float  # detected onset - reference strike, over matches
    stride_s_median: float  # detected
    reference_stride_s_median: float
    contact_s_median: float  # detected
    reference_contact_s_median: float

    @property
    def stride_error(self) -> float:
        """Relative error of the median stride time."""
        return self.stride_s_median / self.reference_stride_s_median - 1.0

    @property
    def contact_error_s(self) -> float:
        """Error of the median contact time, seconds."""
        return self.contact_s_median - self.reference_contact_s_median


def _median(values: Sequence[float] | FloatArray) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def score_contacts(
    contacts: Sequence[tuple[float, float]],
    reference_strike_s: FloatArray,
    reference_contact_s: FloatArray,
    *,
    excluded: Sequence[tuple[float, float]] = (),
    late_onset_s: float = 0.3,
    margin_s: float = 0.5,
    max_stride_s: float = 4.0,
) -> ContactScore:
    """Score detected `contacts` ((t_on_s, t_off_s), in time order) against reference strikes.

    Stride times are compared on the same strides: consecutive strikes matched by consecutive
    contacts, detected onset-to-onset against strike-to-strike.
    """
    strikes = np.sort(np.asarray(reference_strike_s, dtype=np.float64))
    start, stop = strikes[0] - margin_s, strikes[-1] + margin_s

    def scored(t_on_s: float, t_off_s: float) -> bool:
        overlaps = any(a < t_off_s and t_on_s < b for a, b in excluded)
        return start <= t_on_s <= stop and not overlaps

    kept = [(on, off) for on, off in contacts if scored(on, off)]
    matches: list[tuple[int, int]] = []  # (strike index, contact index)
    position = 0
    for index, strike in enumerate(strikes):
        while position < len(kept) and kept[position][1] < strike:
            position += 1  # contacts that ended before this strike cannot match it any more
        if position < len(kept) and kept[position][0] - late_onset_s <= strike:
            matches.append((index, position))
            position += 1
    errors = [kept[c][0] - strikes[s] for s, c in matches]
    strides: list[float] = []
    reference_strides: list[float] = []
    for (s0, c0), (s1, c1) in itertools.pairwise(matches):
        reference = float(strikes[s1] - strikes[s0])
        if s1 == s0 + 1 and c1 == c0 + 1 and reference <= max_stride_s:
            strides.append(kept[c1][0] - kept[c0][0])
            reference_strides.append(reference)
    return ContactScore(
        n_reference=len(strikes),
        n_detected=len(kept),
        n_matched=len(matches),
        recall=len(matches) / len(strikes) if len(strikes) else float("nan"),
        precision=len(matches) / len(kept) if kept else float("nan"),
        onset_error_s_median=_median(errors),
        stride_s_median=_median(strides),
        reference_stride_s_median=_median(reference_strides),
        contact_s_median=_median([off - on for on, off in kept]),
        reference_contact_s_median=_median(reference_contact_s),
    )
