"""Recordings: lossless round trip, owner-only files, damage found and located, kill -9 safety."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.errors import BadFile, FileExistsAlready, InputError, UnreadableFile
from numbguard.recording import (
    Channel,
    FrameRecord,
    JsonRecord,
    RecordingReader,
    RecordingWriter,
    RecordType,
)
from numbguard.recording.format import MAGIC


def _write_sample(path: Path, n_frames: int = 50) -> list[bytes]:
    frames = [bytes([i % 256]) * (1 + i % 40) for i in range(n_frames)]
    with RecordingWriter(path, {"source": "sim://test"}) as writer:
        writer.add_insole({"index": 0, "foot": "left", "insole_id": 1234})
        for i, frame in enumerate(frames):
            writer.write_frame(0, Channel.BLE, i * 0.01, frame)
        writer.write_alert({"kind": "tight_lacing", "t_s": 0.3})
    return frames


def test_round_trip_keeps_every_byte_and_time(tmp_path: Path) -> None:
    path = tmp_path / "session.ngrec"
    frames = _write_sample(path)
    reader = RecordingReader(path)
    assert reader.session["source"] == "sim://test"
    assert reader.session["format"] == 1
    records = list(reader.records())
    frame_records = [r for r in records if isinstance(r, FrameRecord)]
    assert [r.data for r in frame_records] == frames
    assert [r.t_rx_s for r in frame_records] == [i * 0.01 for i in range(len(frames))]
    kinds = [r.type for r in records if isinstance(r, JsonRecord)]
    assert kinds == [RecordType.INSOLE, RecordType.ALERT, RecordType.END]
    assert reader.ended_cleanly
    assert reader.damage is None


def test_file_is_readable_by_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "session.ngrec"
    _write_sample(path, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "session.ngrec"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsAlready, match="exists already") as raised:
        RecordingWriter(path, {})
    assert raised.value.path == str(path)
    assert path.read_bytes() == b"precious"


def test_not_a_recording_says_what_it_expected(tmp_path: Path) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(b"hello world, not a recording")
    with pytest.raises(BadFile, match="magic") as raised:
        RecordingReader(path)
    assert raised.value.path == str(path) and raised.value.line is None


def test_a_missing_recording_is_one_unreadable_file_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.ngrec"
    with pytest.raises(UnreadableFile, match=r"gone\.ngrec") as raised:
        RecordingReader(path)
    assert raised.value.path == str(path) and "No such file" in raised.value.reason


def test_truncated_recording_reads_up_to_the_cut_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "session.ngrec"
    frames = _write_sample(path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 40])
    reader = RecordingReader(path)
    got = [r.data for r in reader.records() if isinstance(r, FrameRecord)]
    assert got == frames  # the cut fell in the alert/end records
    assert reader.damage is not None
    assert "cut inside a record" in str(reader.damage)
    assert not reader.ended_cleanly


def test_corrupted_byte_stops_replay_at_that_record(tmp_path: Path) -> None:
    path = tmp_path / "session.ngrec"
    frames = _write_sample(path)
    data = bytearray(path.read_bytes())
    offset = data.index(frames[30], len(MAGIC) + 100)
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    reader = RecordingReader(path)
    got = [r.data for r in reader.records() if isinstance(r, FrameRecord)]
    assert got == frames[:30]
    assert reader.damage is not None
    assert reader.damage.offset < offset
    assert "checksum" in reader.damage.reason


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=4000))
def test_any_cut_or_flipped_byte_never_raises_past_the_header(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flip: int
) -> None:
    path = tmp_path_factory.mktemp("rec") / "session.ngrec"
    frames = _write_sample(path, 60)
    data = bytearray(path.read_bytes())
    if flip < len(data):
        data[flip] ^= 0x5A
    data = data[: max(cut, 0)] if cut < len(data) else data
    path.write_bytes(bytes(data))
    try:
        reader = RecordingReader(path)
    except InputError:
        return  # the damage hit the magic or the session record: said so, nothing more to read
    got = [r.data for r in reader.records() if isinstance(r, FrameRecord)]
    assert got == frames[: len(got)]  # whatever is read is a correct prefix
    if len(got) < len(frames):
        # Cut on a record boundary reads as a session that never ended; anything else is damage.
        assert reader.damage is not None or not reader.ended_cleanly


@settings(max_examples=200, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=4000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=4000), st.integers(1, 255)), max_size=3
    ),
)
def test_scan_reads_what_records_reads_damage_and_all(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flips: list[tuple[int, int]]
) -> None:
    # scan() checks every record at once; the damage it names must be the first one that
    # records() meets, and what comes before it the same records.
    path = tmp_path_factory.mktemp("rec") / "session.ngrec"
    _write_sample(path, 60)
    data = bytearray(path.read_bytes())
    for at, mask in flips:
        if at < len(data):
            data[at] ^= mask
    path.write_bytes(bytes(data[:cut]))
    try:
        reader = RecordingReader(path)
    except InputError:
        return
    records = list(reader.records())
    expected = (reader.damage, reader.ended_cleanly)
    scan = reader.scan()
    assert (reader.damage, reader.ended_cleanly) == expected
    frames = [r for r in records if isinstance(r, FrameRecord)]
    assert scan.frames == [r.data for r in frames]
    assert scan.insole_index == [r.insole_index for r in frames]
    assert scan.channel == [int(r.channel) for r in frames]
    assert [repr(t) for t in scan.t_rx_s] == [repr(r.t_rx_s) for r in frames]
    json_records = [
        (sum(isinstance(r, FrameRecord) for r in records[:i]), r)
        for i, r in enumerate(records)
        if isinstance(r, JsonRecord)
    ]
    assert scan.json == json_records


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from numbguard.recording import Channel, RecordingWriter

    writer = RecordingWriter(sys.argv[1], {"source": "kill-test"}, sync_interval_s=0.05)
    i = 0
    while True:
        writer.write_frame(0, Channel.SIM, i * 0.01, i.to_bytes(4, "little") * 5)
        i += 1
        if writer.records_synced and i % 50 == 0:
            # Frames synced so far (minus the SESSION record): the reader must find these.
            print(writer.records_synced - 1, flush=True)
    """
)


def test_recording_survives_sigkill_up_to_the_last_sync(tmp_path: Path) -> None:
    path = tmp_path / "killed.ngrec"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    synced_counts = []
    for line in process.stdout:
        synced_counts.append(int(line))
        if len(synced_counts) >= 20 and synced_counts[-1] > 0:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    reader = RecordingReader(path)
    got = [r for r in reader.records() if isinstance(r, FrameRecord)]
    assert len(got) >= synced_counts[-1]
    for i, record in enumerate(got):
        assert record.data == i.to_bytes(4, "little") * 5
    assert not reader.ended_cleanly
