"""Replaying a recording in bulk: the live session's result, without a Python step per frame.

`replay.replay_recording` feeds every frame to the `SessionRunner`, as the live session did.
Most recordings are regular: per foot one insole and one boot, one frame format, every frame
in the end received once (a frame lost on the radio and refilled by RESEND comes back well
within the assembler's wait), the status pages' clock in step with the frames. For such a
foot the runner's stream and assembler always give the same grid: every frame's samples in
frame-number order, from the first frame received, with nothing missing. So here:

1. the recording is scanned whole (`RecordingReader.scan`) and its DATA frames decoded in
   bulk (`protocol.bulk`);
2. each foot is checked for regularity on arrays of the frames' fields; a recording with any
   irregular foot is replayed through the runner frame by frame, in larger chunks;
3. the runner itself replays the first seconds, up to the first samples it releases: that
   fixes each foot's grid origin on the session timeline (clock alignment) exactly as live;
4. the grid is calibrated and analysed in large chunks, both feet interleaved in time.

The analysis gives the same steps and alerts for any chunking, so the result is the live
replay's (`tests/session/test_bulk_replay.py` compares them on regular and irregular
recordings).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.analysis.risk import RiskConfig
from numbguard.calibration.insole import InsoleCalibration
from numbguard.errors import InputError
from numbguard.live.sink import ChunkCallback, chunk_sinks
from numbguard.pads import FOOT_IDS, Foot, pads_from_mask
from numbguard.protocol.bulk import DataFrames, decodable_status_page, decode_data_frames
from numbguard.protocol.codec import decode_frame
from numbguard.protocol.constants import (
    PAGE_COUNTERS,
    PAGE_TARE,
    PAGE_TIMING,
    SEQ_MODULO,
    T_FIRST_MODULO,
)
from numbguard.protocol.frames import DataFrame, Frame, StatusClock, StatusIdentity
from numbguard.protocol.stream import TIME_SLACK_US
from numbguard.recording import RecordingReader, RecordType
from numbguard.recording.reader import RecordScan
from numbguard.session.assembler import DEFAULT_MAX_WAIT_S
from numbguard.session.replay import recorded_calibrations
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent, InsoleIdentity
from numbguard.transports.recorded_events import ReplayStats
from numbguard.types import FloatArray, PressureChunk

# The analysis takes each foot's samples in chunks this long: fewer, larger numpy calls.
BULK_CHUNK_S: Final = 300.0
# A frame refilled by RESEND must arrive this much sooner than the assembler would give it
# up, so that rounding of receive times cannot decide.
_WAIT_MARGIN_S: Final = 0.01

IntArray = npt.NDArray[np.int64]

# Status pages that change nothing in the runner's stream, clock or grid (only the live view).
_UNREAD_PAGES: Final = frozenset((PAGE_COUNTERS, PAGE_TIMING, PAGE_TARE))


@dataclass(frozen=True)
class _Decoded:
    """Every frame of the recording: decoded non-data frames, and DATA frames in arrays."""

    feet: list[Foot]  # per frame, the foot the replay assigns it to
    right: npt.NDArray[np.bool_]  # per frame, whether that is the right foot
    others: dict[int, Frame]  # position -> decoded frame (not in bulk groups)
    groups: list[DataFrames]
    undecodable: int
    # Status pages that decode but that the bulk path does not read (counters, timing,
    # tare): decoded only if the recording is replayed through the runner.
    unread: list[int]


@dataclass(frozen=True)
class _FootGrid:
    """One regular foot: its counts on the grid, in frame-number order."""

    counts: npt.NDArray[np.uint16]  # (samples, pads), as decoded (whole counts)
    pads: tuple[str, ...]
    rate_hz: int


def bulk_replay(
    path: str | os.PathLike[str],
    *,
    on_chunk: ChunkCallback | None = None,
    chunk_s: float = BULK_CHUNK_S,
    keep_steps: bool = False,
    config: RiskConfig | None = None,
) -> tuple[SessionResult, RecordingReader, ReplayStats]:
    """What `replay.replay_recording` gives for `path`, computed in bulk where it can be
    (`keep_steps`: with every step in the result, see `SessionAnalyzer`)."""
    reader = RecordingReader(path)
    scan = reader.scan()
    calibrations = recorded_calibrations(path)
    decoded = _decode(scan)
    stats = ReplayStats(
        frames=len(scan.frames) - decoded.undecodable,
        undecodable=decoded.undecodable,
        recorded_alerts=[r.value for _, r in scan.json if r.type == RecordType.ALERT],
    )
    analyzer = SessionAnalyzer(config, keep_steps=keep_steps)
    runner = SessionRunner(
        calibrations=calibrations,
        analyzer=analyzer,
        sinks=chunk_sinks(on_chunk),
        min_chunk_s=chunk_s,
    )
    chunks = _bulk_chunks(scan, decoded, calibrations, chunk_s)
    if chunks is None:
        for event in _events(scan, decoded):
            runner.on_event(event)
        return runner.finish(), reader, stats
    for chunk in chunks:
        if on_chunk is not None:
            on_chunk(chunk)
        analyzer.feed(chunk)
    return analyzer.finish(), reader, stats


def bulk_chunks(
    path: str | os.PathLike[str], chunk_s: float = BULK_CHUNK_S
) -> Iterator[PressureChunk]:
    """The calibrated pressure chunks of a recording, as `replay.recording_chunks` gives
    them but in `chunk_s` chunks; in bulk where the recording is regular."""
    reader = RecordingReader(path)
    scan = reader.scan()
    calibrations = recorded_calibrations(path)
    decoded = _decode(scan)
    chunks = _bulk_chunks(scan, decoded, calibrations, chunk_s)
    if chunks is not None:
        yield from chunks
        return
    pending: list[PressureChunk] = []
    runner = SessionRunner(
        calibrations=calibrations, sinks=chunk_sinks(pending.append), min_chunk_s=chunk_s
    )
    for event in _events(scan, decoded):
        runner.on_event(event)
        yield from pending
        pending.clear()
    runner.finish()
    yield from pending


def takes_bulk_path(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is regular, so that `bulk_replay` replays it in bulk."""
    scan = RecordingReader(path).scan()
    decoded = _decode(scan)
    grids = _regular_grids(scan, decoded)
    return (
        grids is not None
        and _grid_origins(scan, decoded, recorded_calibrations(path), set(grids))[0] is not None
    )


def _bulk_chunks(
    scan: RecordScan,
    decoded: _Decoded,
    calibrations: dict[Foot, InsoleCalibration],
    chunk_s: float,
) -> Iterator[PressureChunk] | None:
    """The chunks of a regular recording, or None: replay it through the runner."""
    grids = _regular_grids(scan, decoded)
    if grids is None:
        return None
    origins, runner_calibrations = _grid_origins(scan, decoded, calibrations, set(grids))
    if origins is None:
        return None
    return _grid_chunks(grids, origins, runner_calibrations, chunk_s)


# -- decoding -----------------------------------------------------------------------------


def _frame_feet(scan: RecordScan) -> npt.NDArray[np.bool_]:
    """Per FRAME record, whether it is of the right foot: the foot of its insole's latest
    INSOLE record before it, else its header's (as `replay_events` tells them)."""
    n = len(scan.frames)
    lengths = np.fromiter(map(len, scan.frames), dtype=np.int64, count=n)
    joined = np.frombuffer(b"".join(scan.frames), dtype=np.uint8)
    right = np.zeros(n, dtype=bool)
    long_enough = lengths > 2
    right[long_enough] = joined[(np.cumsum(lengths) - lengths)[long_enough] + 2] >> 7 == 1
    index = np.asarray(scan.insole_index, dtype=np.int64)
    positions = np.arange(n)
    known: set[int] = set()
    for order, record in scan.json:
        if record.type != RecordType.INSOLE:
            continue
        insole = int(record.value.get("index", len(known)))
        known.add(insole)
        # From this record on, this insole's frames are of the foot it names.
        later = (index == insole) & (positions >= order)
        right[later] = record.value.get("foot") == "right"
    return right


def _decode(scan: RecordScan) -> _Decoded:
    bulk = decode_data_frames(scan.frames)
    others: dict[int, Frame] = {}
    unread: list[int] = []
    undecodable = 0
    for position in bulk.others:
        if decodable_status_page(scan.frames[position]) in _UNREAD_PAGES:
            unread.append(position)
            continue
        try:
            others[position] = decode_frame(scan.frames[position])
        except InputError:
            undecodable += 1
    right = _frame_feet(scan)
    feet: list[Foot] = [FOOT_IDS[r] for r in right.tolist()]
    return _Decoded(feet, right, others, bulk.groups, undecodable, unread)


def _events(scan: RecordScan, decoded: _Decoded) -> Iterator[FrameEvent]:
    """The recording's frames as the runner's events, in file order (as `replay_events`)."""
    frames: dict[int, Frame] = dict(decoded.others)
    for position in decoded.unread:
        frames[position] = decode_frame(scan.frames[position])
    for group in decoded.groups:
        for i, position in enumerate(group.positions):
            frames[int(position)] = DataFrame(
                foot=FOOT_IDS[int(group.foot_bit[i])],
                insole_tag=int(group.insole_tag[i]),
                seq=int(group.seq[i]),
                pad_mask=group.pad_mask,
                t_first_us=int(group.t_first_us[i]),
                rate_hz=int(group.rate_hz[i]),
                samples=group.samples[i],
            )
    for position in sorted(frames):
        frame = frames[position]
        foot = decoded.feet[position]
        identity = InsoleIdentity(link=f"replay:{foot}", foot=foot, insole_tag=frame.insole_tag)
        yield FrameEvent(identity, frame, scan.frames[position], scan.t_rx_s[position])


# -- the regular case ---------------------------------------------------------------------


def _signed(values: IntArray, modulo: int) -> IntArray:
    result: IntArray = (values + modulo // 2) % modulo - modulo // 2
    return result


def _regular_grids(scan: RecordScan, decoded: _Decoded) -> dict[Foot, _FootGrid] | None:
    """Each foot's grid if every foot is regular (see the module doc), else None."""
    feet = decoded.right
    index = np.asarray(scan.insole_index, dtype=np.int64)
    t_rx_s = np.asarray(scan.t_rx_s, dtype=np.float64)
    grids: dict[Foot, _FootGrid] = {}
    for foot_bit, foot in enumerate(FOOT_IDS):
        parts = [_subset(g, feet[g.positions] == bool(foot_bit)) for g in decoded.groups]
        parts = [part for part in parts if len(part.positions)]
        if not parts:
            continue
        if len(parts) != 1:
            return None  # frames of two formats
        grid = _regular_foot(parts[0], t_rx_s, decoded, foot)
        if grid is None or len(np.unique(index[parts[0].positions])) != 1:
            return None
        grids[foot] = grid
    for frame in decoded.others.values():
        if isinstance(frame, DataFrame):
            return None  # a DATA frame that took the single-frame decoder (not expected)
    return grids


def _subset(group: DataFrames, chosen: npt.NDArray[np.bool_]) -> DataFrames:
    return DataFrames(
        positions=group.positions[chosen],
        foot_bit=group.foot_bit[chosen],
        insole_tag=group.insole_tag[chosen],
        seq=group.seq[chosen],
        pad_mask=group.pad_mask,
        t_first_us=group.t_first_us[chosen],
        rate_hz=group.rate_hz[chosen],
        samples=group.samples[chosen],
    )


def _regular_foot(
    group: DataFrames, t_rx_s: FloatArray, decoded: _Decoded, foot: Foot
) -> _FootGrid | None:
    positions = group.positions
    rx = t_rx_s[positions]
    rate_hz = int(group.rate_hz[0])
    span_us = group.n_sets * 1_000_000 / rate_hz
    if (group.rate_hz != rate_hz).any() or span_us != int(span_us) or (np.diff(rx) < 0).any():
        return None
    span = int(span_us)
    # Frame numbers as the stream unwraps them (each near the newest so far).
    seq64 = group.seq[0] + np.concatenate(([0], np.cumsum(_signed(np.diff(group.seq), SEQ_MODULO))))
    newest = np.maximum.accumulate(seq64)
    if (newest - seq64 >= SEQ_MODULO // 4).any() or seq64.min() != seq64[0]:
        return None
    order = np.argsort(seq64, kind="stable")
    ordered = seq64[order]
    first_copy = np.concatenate(([True], np.diff(ordered) != 0))
    unique = ordered[first_copy]
    if unique[-1] - unique[0] + 1 != len(unique):
        return None  # a frame never came
    # Every copy of a frame carries the time the sequence gives it (else: another boot).
    t24 = (group.t_first_us[0] + (seq64 - seq64[0]) * span) % T_FIRST_MODULO
    if (t24 != group.t_first_us).any():
        return None
    # A frame that came after a newer one: before the assembler gave its samples up.
    late = np.flatnonzero(seq64 < np.concatenate(([seq64[0]], newest[:-1])))
    for i in late:
        revealed = int(np.searchsorted(newest, seq64[i], side="right"))
        if rx[i] - rx[revealed] >= DEFAULT_MAX_WAIT_S - _WAIT_MARGIN_S:
            return None
    if not _status_in_step(decoded, foot, positions, seq64, newest, group, span):
        return None
    samples = group.samples[order[first_copy]]
    counts = samples.reshape(-1, samples.shape[2])
    return _FootGrid(counts, pads_from_mask(group.pad_mask), rate_hz)


def _status_in_step(
    decoded: _Decoded,
    foot: Foot,
    positions: IntArray,
    seq64: IntArray,
    newest: IntArray,
    group: DataFrames,
    span_us: int,
) -> bool:
    """One boot, and every clock page within half a second of the frames it follows, so that
    the stream's bounds from the pages never move a frame."""
    boot_ids: set[int] = set()
    slack_us = TIME_SLACK_US // 2
    for position, frame in decoded.others.items():
        if decoded.feet[position] != foot:
            continue
        if isinstance(frame, StatusIdentity):
            boot_ids.add(frame.boot_id)
        elif isinstance(frame, StatusClock):
            before = int(np.searchsorted(positions, position))
            if before == 0:
                continue  # before the first frame: it only sets where the stream starts
            hi = int(newest[before - 1])
            last = (
                hi + ((frame.last_data_seq - hi + SEQ_MODULO // 2) % SEQ_MODULO) - (SEQ_MODULO // 2)
            )
            for following in (last + 1, max(hi, last) + 1):
                t24 = (int(group.t_first_us[0]) + (following - int(seq64[0])) * span_us) % (
                    T_FIRST_MODULO
                )
                ahead = (frame.device_time_us - t24 + T_FIRST_MODULO // 2) % T_FIRST_MODULO
                ahead -= T_FIRST_MODULO // 2
                if following == last + 1 and ahead > slack_us:
                    return False
                if following == max(hi, last) + 1 and ahead < -slack_us:
                    return False
    return len(boot_ids) <= 1


def _grid_origins(
    scan: RecordScan,
    decoded: _Decoded,
    calibrations: dict[Foot, InsoleCalibration],
    feet: set[Foot],
) -> tuple[dict[Foot, float] | None, dict[Foot, InsoleCalibration]]:
    """Each foot's grid origin on the session timeline, by the runner itself replaying the
    recording up to the first samples it releases for every foot (a few seconds)."""
    runner = SessionRunner(calibrations=calibrations, min_chunk_s=math.inf)
    origins: dict[Foot, float] = {}
    for event in _events_prefix(scan, decoded):
        runner.on_event(event)
        origins = {
            foot: track.t0_s
            for foot, track in runner.tracks.items()
            if track.t0_s is not None and foot in feet
        }
        if len(origins) == len(feet):
            return origins, {foot: runner.tracks[foot].calibration for foot in feet}
    return None, {}


def _events_prefix(scan: RecordScan, decoded: _Decoded) -> Iterator[FrameEvent]:
    """The first events of the recording, each decoded by `decode_frame` as live."""
    for position, raw in enumerate(scan.frames):
        try:
            frame = decode_frame(raw)
        except InputError:
            continue
        foot = decoded.feet[position]
        identity = InsoleIdentity(link=f"replay:{foot}", foot=foot, insole_tag=frame.insole_tag)
        yield FrameEvent(identity, frame, raw, scan.t_rx_s[position])


def _grid_chunks(
    grids: dict[Foot, _FootGrid],
    origins: dict[Foot, float],
    calibrations: dict[Foot, InsoleCalibration],
    chunk_s: float,
) -> Iterator[PressureChunk]:
    """Calibrated chunks of every foot, interleaved in time as the live replay makes them."""
    starts = {
        foot: range(0, len(grid.counts), max(1, round(chunk_s * grid.rate_hz)))
        for foot, grid in grids.items()
    }
    for k in range(max((len(s) for s in starts.values()), default=0)):
        for foot, grid in grids.items():
            if k >= len(starts[foot]):
                continue
            start = starts[foot][k]
            counts = grid.counts[start : start + starts[foot].step]
            t_s = origins[foot] + (start + np.arange(len(counts))) / grid.rate_hz
            pressure = calibrations[foot].convert(counts, grid.pads).pressure_by_pad()
            yield PressureChunk(foot, t_s, pressure, float(grid.rate_hz))
