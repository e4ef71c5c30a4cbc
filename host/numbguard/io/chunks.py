"""Cutting per-foot sample arrays into `PressureChunk`s of a fixed number of samples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from numbguard.errors import BadFile, BadValue
from numbguard.pads import Foot
from numbguard.types import FloatArray, PressureChunk


def chunk_samples(chunk_s: float, sample_rate_hz: float) -> int:
    """Samples per chunk for a chunk length in seconds (at least one)."""
    if not (chunk_s > 0 and np.isfinite(chunk_s)):
        raise BadValue(
            "bad chunk length",
            name="chunk_s",
            expected="a positive number of seconds",
            got=repr(chunk_s),
        )
    return max(1, round(chunk_s * sample_rate_hz))


def split_chunks(
    foot: Foot,
    t_s: FloatArray,
    pressure_kpa: Mapping[str, FloatArray],
    sample_rate_hz: float,
    samples_per_chunk: int,
) -> Iterator[PressureChunk]:
    """Yield consecutive chunks of `samples_per_chunk` samples (the last may be shorter)."""
    for start in range(0, len(t_s), samples_per_chunk):
        stop = start + samples_per_chunk
        yield PressureChunk(
            foot=foot,
            t_s=t_s[start:stop],
            pressure_kpa={pad: values[start:stop] for pad, values in pressure_kpa.items()},
            sample_rate_hz=sample_rate_hz,
        )


def rate_from_times(t_s: FloatArray, where: str) -> float:
    """Sample rate from the median time step, to 6 significant digits (0.01 s steps -> 100 Hz)."""
    step_s = float(np.median(np.diff(t_s)))
    if not step_s > 0:
        raise BadFile(
            "cannot infer the sample rate",
            path=where,
            expected="increasing times",
            got=f"median time step {step_s!r} s",
        )
    return float(f"{1.0 / step_s:.6g}")
