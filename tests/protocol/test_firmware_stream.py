"""The real firmware (main.py under MicroPython) streams over serial; the host's decoder and
stream reassembly take its bytes in arbitrary cuts and lose, reject or misplace nothing."""

from __future__ import annotations

import itertools
import random
import subprocess
import time
from pathlib import Path

from mpy_runner import FIRMWARE_DIR, micropython_binary, micropython_env

from numbguard.protocol import (
    DataFrame,
    InsoleStream,
    Reply,
    SerialFrameDecoder,
    StatusClock,
    StatusFrame,
    StatusIdentity,
    StreamFrame,
    encode_frame,
    encode_serial,
    make_control,
)
from numbguard.protocol.constants import OP_GET_STATUS, OP_SET_RATE, OP_TIME_SYNC, RESULT_OK

STREAM_S = 0.6  # at each rate


def run_firmware(tmp_path: Path) -> bytes:
    """Stream at 100 Hz, switch to 200 Hz, sync the clock, ask for status; return stdout."""
    controls = [make_control(OP_SET_RATE, 1, rate_hz=200), make_control(OP_GET_STATUS, 2),
                make_control(OP_TIME_SYNC, 3, host_token=0xC0FFEE)]  # fmt: skip
    process = subprocess.Popen(
        [micropython_binary(), str(FIRMWARE_DIR / "main.py")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=micropython_env(),
    )  # fmt: skip
    assert process.stdin is not None
    time.sleep(STREAM_S)
    process.stdin.write(b"".join(encode_serial(encode_frame(c)) for c in controls))
    process.stdin.flush()
    time.sleep(STREAM_S)
    out, err = process.communicate(timeout=30)  # end of stdin ends the firmware
    assert process.returncode == 0, err.decode(errors="replace")
    return out


def test_firmware_stream_decodes_and_reassembles_exactly(tmp_path: Path) -> None:
    out = run_firmware(tmp_path)
    decoder = SerialFrameDecoder()
    rng = random.Random(5)
    frames = []
    start = 0
    while start < len(out):
        step = rng.randint(1, 300)
        frames += decoder.feed(out[start : start + step])
        start += step
    decoder.flush()
    assert decoder.rejected_total == 0, decoder.rejections

    stream = InsoleStream()
    placed: list[StreamFrame] = []
    replies: dict[int, Reply] = {}
    for frame in frames:
        if isinstance(frame, DataFrame):
            placed += stream.place(frame)
        elif isinstance(frame, StatusFrame):
            placed += stream.on_status(frame)
        elif isinstance(frame, Reply):
            replies[frame.seq] = frame
    assert {rid: r.result for rid, r in replies.items()} == {1: RESULT_OK, 2: RESULT_OK,
                                                             3: RESULT_OK}  # fmt: skip
    assert any(isinstance(f, StatusIdentity) for f in frames)
    assert any(isinstance(f, StatusClock) for f in frames)

    # Every frame in order, none late, lost or duplicated; both rates seen.
    seqs = [p.seq64 for p in placed]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert stream.stats.lost == stream.stats.late == stream.stats.duplicates == 0
    assert stream.missing() == 0 and stream.gaps == []
    assert {p.frame.rate_hz for p in placed} == {100, 200}
    # Time only moves on: each frame starts after the last sample of the one before, a full
    # period later unless the rate changed between them (the sampler starts the new grid at
    # once), or later still after a missed deadline.
    for before, after in itertools.pairwise(placed):
        last_sample_us = before.sample_times_us()[-1]
        assert after.t_first_us > last_sample_us, (before, after)
        if after.frame.rate_hz == before.frame.rate_hz:
            assert after.t_first_us >= before.t_end_us - 1, (before, after)
    # The TIME_SYNC reply's 32-bit clock lands on the same timeline as the data.
    sync_us = stream.unwrap_device_time(int(replies[3].data["device_time_us"]))
    assert sync_us is not None
    assert placed[0].t_first_us < sync_us < placed[-1].t_end_us
    assert replies[3].data["host_token"] == 0xC0FFEE
