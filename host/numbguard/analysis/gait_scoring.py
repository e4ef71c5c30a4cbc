"""Scoring detected contacts against reference gait events (for validation on recorded walks).

A reference event is a foot strike time, with the reference stride and stance times of the
record. A detected contact matches a strike when the strike lies in
``[t_on_s - late_onset_s, t_off_s]``: the contact holds the strike, or starts at most
`late_onset_s` after it (with forefoot pads only the heel strike is invisible and the contact
starts at foot flat). Each contact and each strike match at most once, in time order.

Only detections that start inside the scored span (first strike - `margin_s` to last
strike + `margin_s`) and do not overlap `excluded` intervals (reference segments that are
not steps) count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from numbguard.analysis.types import FloatArray


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
    strides_s: Sequence[float],
    reference_strike_s: FloatArray,
    reference_stride_s: FloatArray,
    reference_contact_s: FloatArray,
    *,
    excluded: Sequence[tuple[float, float]] = (),
    late_onset_s: float = 0.3,
    margin_s: float = 0.5,
) -> ContactScore:
    """Score detected `contacts` ((t_on_s, t_off_s), in time order) and their stride times."""
    strikes = np.sort(np.asarray(reference_strike_s, dtype=np.float64))
    start, stop = strikes[0] - margin_s, strikes[-1] + margin_s

    def scored(t_on_s: float, t_off_s: float) -> bool:
        overlaps = any(a < t_off_s and t_on_s < b for a, b in excluded)
        return start <= t_on_s <= stop and not overlaps

    kept = [(on, off) for on, off in contacts if scored(on, off)]
    kept_strides = [
        s for (on, off), s in zip(contacts, strides_s, strict=True) if scored(on, off) and s > 0
    ]
    errors: list[float] = []
    position = 0
    for strike in strikes:
        while position < len(kept) and kept[position][1] < strike:
            position += 1  # contacts that ended before this strike cannot match it any more
        if position < len(kept) and kept[position][0] - late_onset_s <= strike:
            errors.append(kept[position][0] - strike)
            position += 1
    matched = len(errors)
    return ContactScore(
        n_reference=len(strikes),
        n_detected=len(kept),
        n_matched=matched,
        recall=matched / len(strikes) if len(strikes) else float("nan"),
        precision=matched / len(kept) if kept else float("nan"),
        onset_error_s_median=_median(errors),
        stride_s_median=_median(kept_strides),
        reference_stride_s_median=_median(reference_stride_s),
        contact_s_median=_median([off - on for on, off in kept]),
        reference_contact_s_median=_median(reference_contact_s),
    )
