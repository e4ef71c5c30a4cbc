"""Bulk replay of a recording gives what the live replay gives: alerts, steps, metrics, samples.

Recordings come from the simulated insoles through the live session (with radio loss refilled
by RESEND), and from rewriting one: a frame that never came, a damaged frame, a cut file. The
regular ones take the bulk path, the others the runner; both must equal the live replay.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.analysis.gait import detect_steps
from numbguard.errors import InputError
from numbguard.live.recording_sink import RecordingSink
from numbguard.protocol.bulk import decodable_status_page, decode_data_frames
from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import DATA_OVERHEAD_BYTES, MAX_FRAME_BYTES
from numbguard.protocol.frames import DataFrame, StatusFrame
from numbguard.recording import (
    Channel,
    FrameRecord,
    JsonRecord,
    RecordingReader,
    RecordingWriter,
    RecordType,
)
from numbguard.session.bulk_replay import bulk_chunks, bulk_replay, takes_bulk_path
from numbguard.session.export import CSV_EXPORT_CHUNK_S, write_csv
from numbguard.session.live import run_session
from numbguard.session.replay import recording_chunks, replay_recording
from numbguard.session.runner import SessionRunner
from numbguard.session.sources import analyse_session, session_chunks
from numbguard.transports import open_transport
from numbguard.types import PressureChunk


def _record(path: Path, url: str) -> Path:
    with RecordingWriter(path, {"source": url}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder, Channel.SIM)])
        asyncio.run(run_session(open_transport(url), runner))
    return path


@pytest.fixture(scope="module")
def lossy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    url = "sim://tight_lacing?speed=max&duration_s=150&loss=0.05&seed=2"
    return _record(tmp_path_factory.mktemp("bulk") / "lossy.ngrec", url)


@pytest.fixture(scope="module", params=["normal_run", "normal_run_no_heel"])
def clean(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Without loss; with six pads, and with five (the frames' samples end in half a byte)."""
    url = f"sim://{request.param}?speed=max&duration_s=90&seed=4"
    return _record(tmp_path_factory.mktemp("bulk") / "clean.ngrec", url)


def _rewrite(
    source: Path, target: Path, change: Callable[[int, FrameRecord], bytes | None]
) -> Path:
    """A copy of `source` with each FRAME record's bytes replaced (None: left out)."""
    reader = RecordingReader(source)
    session = {k: v for k, v in reader.session.items() if k not in ("format", "created_unix_s")}
    with RecordingWriter(target, session) as writer:
        frames = 0
        for record in reader.records():
            if isinstance(record, JsonRecord):
                write = {
                    RecordType.INSOLE: writer.add_insole,
                    RecordType.ALERT: writer.write_alert,
                    RecordType.EVENT: writer.write_event,
                }.get(record.type)
                if write is not None:
                    write(record.value)
                continue
            data = change(frames, record)
            frames += 1
            if data is not None:
                writer.write_frame(record.insole_index, record.channel, record.t_rx_s, data)
    return target


def _feet_samples(
    chunks: list[PressureChunk],
) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    feet: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for foot in ("left", "right"):
        mine = [c for c in chunks if c.foot == foot]
        if mine:
            feet[foot] = (
                np.concatenate([c.t_s for c in mine]),
                {
                    p: np.concatenate([c.pressure_kpa[p] for c in mine])
                    for p in mine[0].pressure_kpa
                },
            )
    return feet


def _assert_same_as_live(path: Path) -> None:
    live_chunks: list[PressureChunk] = []
    live, live_reader, live_stats = replay_recording(path, on_chunk=live_chunks.append)
    bulk_seen: list[PressureChunk] = []
    bulk, bulk_reader, bulk_stats = bulk_replay(path, on_chunk=bulk_seen.append, keep_steps=True)
    assert bulk.to_json() == live.to_json()  # alerts, contacts, per-foot metrics
    assert bulk.alerts == live.alerts
    # Every step with all its metrics, as the contact detector finds them in the live chunks.
    live_steps = {
        foot: detect_steps([c for c in live_chunks if c.foot == foot])
        for foot in ("left", "right")
        if any(c.foot == foot for c in live_chunks)
    }
    assert bulk.steps == live_steps
    assert (bulk_stats.frames, bulk_stats.undecodable) == (
        live_stats.frames,
        live_stats.undecodable,
    )
    assert bulk_stats.recorded_alerts == live_stats.recorded_alerts
    assert (bulk_reader.damage, bulk_reader.ended_cleanly) == (
        live_reader.damage,
        live_reader.ended_cleanly,
    )
    expected = _feet_samples(live_chunks)
    for got in (_feet_samples(bulk_seen), _feet_samples(list(bulk_chunks(path)))):
        assert got.keys() == expected.keys()
        for foot, (t_s, pressure) in expected.items():
            np.testing.assert_array_equal(got[foot][0], t_s)
            assert got[foot][1].keys() == pressure.keys()
            for pad, values in pressure.items():
                np.testing.assert_array_equal(got[foot][1][pad], values)
    assert _feet_samples(list(recording_chunks(path))).keys() == expected.keys()


def test_a_lossy_recording_takes_the_bulk_path_and_equals_the_live_replay(lossy: Path) -> None:
    assert takes_bulk_path(lossy)
    _assert_same_as_live(lossy)
    result, warning = analyse_session(lossy)
    assert warning is None
    assert result.to_json() == replay_recording(lossy)[0].to_json()
    assert any(alert.kind == "tight_lacing" for alert in result.alerts)


def test_a_clean_recording_takes_the_bulk_path_and_equals_the_live_replay(clean: Path) -> None:
    assert takes_bulk_path(clean)
    _assert_same_as_live(clean)


def test_the_csv_export_of_a_recording_is_the_live_replays(lossy: Path) -> None:
    """Both feet's columns, every row as the live replay's chunks give it."""
    live, bulk = io.StringIO(), io.StringIO()
    write_csv(live, recording_chunks(lossy))
    with session_chunks(lossy, CSV_EXPORT_CHUNK_S) as chunks:  # as `export --csv` reads
        write_csv(bulk, chunks)
    assert bulk.getvalue() == live.getvalue()
    header = next(line for line in live.getvalue().splitlines() if not line.startswith("#"))
    assert "left.heel" in header and "right.heel" in header


def test_a_frame_that_never_came_is_replayed_by_the_runner_alike(
    lossy: Path, tmp_path: Path
) -> None:
    data_frames = [0]

    def drop_one(_: int, record: FrameRecord) -> bytes | None:
        if isinstance(decode_frame(record.data), DataFrame):
            data_frames[0] += 1
            if data_frames[0] == 200:
                return None
        return record.data

    path = _rewrite(lossy, tmp_path / "gap.ngrec", drop_one)
    assert not takes_bulk_path(path)
    _assert_same_as_live(path)


def test_a_recording_without_frames_is_replayed_alike(lossy: Path, tmp_path: Path) -> None:
    path = _rewrite(lossy, tmp_path / "empty.ngrec", lambda _, record: None)
    _assert_same_as_live(path)
    assert bulk_replay(path)[0].alerts == ()


def test_damaged_frames_and_a_cut_file_are_replayed_alike(lossy: Path, tmp_path: Path) -> None:
    def damage(index: int, record: FrameRecord) -> bytes:
        if index % 97 == 5:
            return record.data[:-1] + bytes([record.data[-1] ^ 0xFF])
        return record.data

    path = _rewrite(lossy, tmp_path / "damaged.ngrec", damage)
    _assert_same_as_live(path)
    cut = tmp_path / "cut.ngrec"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    _assert_same_as_live(cut)
    assert bulk_replay(cut)[1].damage is not None


def test_bulk_decoding_matches_decode_frame_frame_by_frame(lossy: Path, tmp_path: Path) -> None:
    frames = [r.data for r in RecordingReader(lossy).records() if isinstance(r, FrameRecord)]
    # Damage some: a flipped byte anywhere fails the CRC, and decode_frame must say so too.
    frames = [
        f[:7] + bytes([f[7] ^ 0x10]) + f[8:] if i % 53 == 0 else f for i, f in enumerate(frames)
    ]
    bulk = decode_data_frames(frames)
    seen = set(bulk.others)
    for group in bulk.groups:
        for i, position in enumerate(group.positions):
            frame = decode_frame(frames[int(position)])
            assert isinstance(frame, DataFrame)
            assert (frame.seq, frame.t_first_us, frame.rate_hz, frame.pad_mask) == (
                group.seq[i],
                group.t_first_us[i],
                group.rate_hz[i],
                group.pad_mask,
            )
            np.testing.assert_array_equal(frame.samples, group.samples[i])
            seen.add(int(position))
    assert seen == set(range(len(frames)))
    pages = 0
    for position in bulk.others:  # every frame left out is not a good DATA frame
        page = decodable_status_page(frames[position])
        try:
            frame = decode_frame(frames[position])
        except InputError:
            assert page is None
            continue
        assert not isinstance(frame, DataFrame)
        # A status page the bulk path counts without decoding is one decode_frame decodes.
        assert page == (frame.page if isinstance(frame, StatusFrame) else None)
        pages += page is not None
    assert pages > 100


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 63),  # pad mask
            st.integers(1, 30),  # sample sets
            st.integers(25, 200),  # rate
            st.integers(0, (1 << 24) - 1),  # t_first_us
            st.integers(0, 0xFFFF),  # seq
            st.integers(0, 2**32),  # sample seed
        ),
        min_size=1,
        max_size=12,
    )
)
def test_bulk_decoding_of_any_data_frame_is_decode_frames(
    shapes: list[tuple[int, int, int, int, int, int]],
) -> None:
    frames = []
    for mask, n_sets, rate_hz, t_first_us, seq, seed in shapes:
        n_pads = mask.bit_count()
        if n_sets * n_pads > (MAX_FRAME_BYTES - DATA_OVERHEAD_BYTES) * 2 // 3:
            n_sets = max(1, (MAX_FRAME_BYTES - DATA_OVERHEAD_BYTES) * 2 // 3 // n_pads)
        samples = np.random.default_rng(seed).integers(0, 4096, (n_sets, n_pads))
        frame = DataFrame(foot="right", insole_tag=5, seq=seq, pad_mask=mask,
                          t_first_us=t_first_us, rate_hz=rate_hz, samples=samples)  # fmt: skip
        frames.append(encode_frame(frame))
    bulk = decode_data_frames(frames)
    assert bulk.others == []
    for group in bulk.groups:
        for i, position in enumerate(group.positions):
            frame = decode_frame(frames[int(position)])
            assert isinstance(frame, DataFrame)
            assert (frame.seq, frame.t_first_us, frame.rate_hz, frame.pad_mask) == (
                group.seq[i], group.t_first_us[i], group.rate_hz[i], group.pad_mask,
            )  # fmt: skip
            np.testing.assert_array_equal(frame.samples, group.samples[i])
