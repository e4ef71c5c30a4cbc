"""The session runner end to end on emulated insoles: losses refilled, recording, replay."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np
import pytest

from numbguard.live.recording_sink import RecordingSink
from numbguard.live.sink import ChunkListener
from numbguard.live.state import LiveState
from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import (
    FIRMWARE_TASKS,
    OP_RESEND,
    OP_TIME_SYNC,
    RESET_ERRORS,
    RESET_TASK,
)
from numbguard.protocol.control import make_control
from numbguard.protocol.frames import StatusTiming
from numbguard.protocol.time_sync import token_from_host_time
from numbguard.recording import Channel, RecordingWriter
from numbguard.recording.reader import JsonRecord, RecordingReader
from numbguard.session.replay import recording_chunks, replay_recording
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent, InsoleIdentity
from numbguard.transports.emulated_insole import InsoleEmulator

STEP_S = 0.05


def _drive(
    runner: SessionRunner, duration_s: float, *, loss: float, seed: int
) -> dict[str, InsoleEmulator]:
    """Two emulated insoles streaming into `runner`, dropping `loss` of data notifications,
    with resends every second and a time sync every 5 s."""
    rng = random.Random(seed)
    emulators = {
        "left": InsoleEmulator(
            foot="left", insole_id=0x1A2B3C01, clock_offset_us=5_000_000, boot_id=1
        ),
        "right": InsoleEmulator(
            foot="right", insole_id=0x1A2B3C02, clock_offset_us=900_000_000, boot_id=2
        ),
    }
    identities = {
        foot: InsoleIdentity(link=f"emu:{foot}", foot=foot, insole_tag=e.insole_tag)
        for foot, e in emulators.items()
    }  # type: ignore[misc]
    request_id = 0

    def deliver(foot: str, raw: bytes, now_s: float) -> None:
        runner.on_event(FrameEvent(identities[foot], decode_frame(raw), raw, now_s))

    steps = round(duration_s / STEP_S)
    for step in range(steps + 1):
        now_s = step * STEP_S
        for foot, emulator in emulators.items():
            for out in emulator.poll(now_s):
                if out.channel == "data" and rng.random() < loss:
                    continue
                deliver(foot, out.frame, now_s + 0.01)
            if step % 20 == 0 or step == steps:
                stream = runner.tracks[foot].stream  # type: ignore[index]
                for first_seq, last_seq in stream.resend_ranges(again=True):
                    request_id += 1
                    control = encode_frame(
                        make_control(OP_RESEND, request_id, first_seq=first_seq, last_seq=last_seq)
                    )
                    for out in emulator.handle_control(control, now_s):
                        deliver(foot, out.frame, now_s + 0.02)
            if step % 100 == 10:
                request_id += 1
                token = token_from_host_time(now_s)
                control = encode_frame(make_control(OP_TIME_SYNC, request_id, host_token=token))
                for out in emulator.handle_control(control, now_s + 0.004):
                    deliver(foot, out.frame, now_s + 0.008)
    return emulators  # type: ignore[return-value]


@pytest.mark.parametrize("loss", [0.0, 0.1])
def test_every_sample_taken_reaches_the_analysis(loss: float) -> None:
    state = LiveState()
    runner = SessionRunner(sinks=[state])
    emulators = _drive(runner, 30.0, loss=loss, seed=5)
    result = runner.finish()
    for foot, emulator in emulators.items():
        track = runner.tracks[foot]  # type: ignore[index]
        assert track.assembler.stats.samples_missing == 0
        # Samples still inside the last unfinished frame were never sent.
        assert emulator.samples_taken - track.assembler.stats.samples_released < 30
        assert track.assembler.stats.samples_released > 2900
        # The synthetic gait strides every 0.72 s: about 41 contacts in 30 s.
        contacts = result.feet[foot].contacts  # type: ignore[index]
        assert 38 <= len(contacts) <= 43
    if loss:
        assert state.feet["left"].frames_recovered > 0


def test_left_and_right_share_one_timeline_despite_clock_offsets() -> None:
    runner = SessionRunner()
    _drive(runner, 20.0, loss=0.0, seed=1)
    result = runner.finish()
    left_on = [on for on, _ in result.feet["left"].contacts]
    right_on = [on for on, _ in result.feet["right"].contacts]
    # Both emulators run the same gait from the same start: contacts coincide in time.
    assert abs(left_on[3] - right_on[3]) < 0.05
    assert 0.0 <= left_on[0] < 1.0


def test_replay_of_the_recording_gives_the_live_result_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "live.ngrec"
    with RecordingWriter(path, {"source": "emulator"}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder, Channel.SIM)])
        _drive(runner, 20.0, loss=0.1, seed=9)
        live = runner.finish()
    replayed, reader, stats = replay_recording(path)
    assert reader.damage is None and reader.ended_cleanly
    assert stats.undecodable == 0
    assert json.dumps(replayed.to_json(), sort_keys=True) == json.dumps(
        live.to_json(), sort_keys=True
    )
    again, _, _ = replay_recording(path)
    assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(live.to_json(), sort_keys=True)
    chunks = list(recording_chunks(path))
    assert {chunk.foot for chunk in chunks} == {"left", "right"}
    assert (
        sum(len(c.t_s) for c in chunks if c.foot == "left")
        == runner.tracks["left"].assembler.stats.samples_released
    )


def test_a_restarted_insole_carries_on_at_the_right_time_after_a_gap() -> None:
    chunks: list = []
    runner = SessionRunner(sinks=[ChunkListener(chunks.append)])
    ids = {"left": 0x1A2B3C01, "right": 0x1A2B3C02}
    right = InsoleEmulator(
        foot="right", insole_id=ids["right"], clock_offset_us=7_000_000, boot_id=2
    )
    before = InsoleEmulator(
        foot="left", insole_id=ids["left"], clock_offset_us=5_000_000, boot_id=1
    )
    after = InsoleEmulator(foot="left", insole_id=ids["left"], clock_offset_us=0, boot_id=9)
    identity = {
        foot: InsoleIdentity(link=f"emu:{foot}", foot=foot, insole_tag=ids[foot] & 0x7F)  # type: ignore[misc]
        for foot in ids
    }
    for step in range(round(20.0 / STEP_S) + 1):
        now_s = step * STEP_S
        sources = [("right", right)]
        if now_s < 10.0:
            sources.append(("left", before))
        elif now_s >= 10.6:  # watchdog reset: 0.6 s away, then a new boot from clock 0
            sources.append(("left", after))
        for foot, emulator in sources:
            for out in emulator.poll(now_s):
                raw = out.frame
                runner.on_event(FrameEvent(identity[foot], decode_frame(raw), raw, now_s + 0.01))
    runner.finish()
    left = [c for c in chunks if c.foot == "left"]
    t_s = np.concatenate([c.t_s for c in left])
    heel = np.concatenate([c.pressure_kpa["heel"] for c in left])
    resumed_s = t_s[(t_s > 10.0) & np.isfinite(heel)][0]
    assert 10.5 <= resumed_s <= 10.8  # not shifted to the stream's next 16.78 s clock mark
    assert np.isnan(heel[(t_s > 10.1) & (t_s < 10.5)]).all()  # the restart is a gap
    assert runner.tracks["left"].stream.stats.resets == 1
    assert runner.tracks["left"].assembler.stats.samples_missing == 0  # not waited for


def test_an_insole_that_reset_after_a_failure_is_shown_logged_and_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    identity = InsoleIdentity(link="emu:left", foot="left", insole_tag=1)
    path = tmp_path / "session.ngr"
    with RecordingWriter(path, {"source": "test"}) as recorder:
        state = LiveState()
        runner = SessionRunner(sinks=[RecordingSink(recorder), state])
        for seq, reason in enumerate((RESET_TASK + FIRMWARE_TASKS.index("sender"), 0)):
            page = StatusTiming(
                foot="left", insole_tag=1, seq=seq, pad_mask=0x3F, jitter_mean_us=0,
                jitter_max_us=0, late_samples=0, fault_open_mask=0, fault_short_mask=0,
                reset_reason=reason, reset_error=RESET_ERRORS.index("TypeError"),
            )  # fmt: skip
            raw = encode_frame(page)
            with caplog.at_level(logging.WARNING, logger="numbguard.session.runner"):
                runner.on_event(FrameEvent(identity, decode_frame(raw), raw, float(seq)))
            if seq == 0:
                shown = state.feet["left"].previous_reset
                assert shown == "the sender task failed with TypeError and the insole reset"
        # A later boot that ended well clears it.
        assert state.feet["left"].previous_reset is None
    assert [r.getMessage() for r in caplog.records] == [
        "left insole: before this boot, the sender task failed with TypeError and the insole reset"
    ]
    events = [
        r.value for r in RecordingReader(path).records()
        if isinstance(r, JsonRecord) and r.value.get("event") == "insole_reset"
    ]  # fmt: skip
    assert events == [{"event": "insole_reset", "foot": "left", "why": shown}]
