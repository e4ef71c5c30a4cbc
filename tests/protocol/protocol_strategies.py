"""Hypothesis strategies for valid frames of every kind (shared by the protocol tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from numbguard.protocol.constants import (
    MAX_FRAME_BYTES,
    OP_SET_NAME,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    RESULT_NOT_HELD,
    RESULT_OK,
)
from numbguard.protocol.control import CONTROL_ARGS, REPLY_DATA, make_control
from numbguard.protocol.frames import (
    Control,
    DataFrame,
    Frame,
    Reply,
    StatusClock,
    StatusCounters,
    StatusIdentity,
    StatusTare,
    StatusTiming,
)
from numbguard.protocol.packing import packed_bytes

# No deadline and no slowness check: a loaded CI machine must not turn these into failures.
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
pad_masks = st.integers(1, 0x3F)
feet = st.sampled_from(["left", "right"])
tags = st.integers(0, 0x7F)
f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


def _max_sets(n_pads: int) -> int:
    room = MAX_FRAME_BYTES - 11
    sets = 1
    while packed_bytes((sets + 1) * n_pads) <= room:
        sets += 1
    return sets


@st.composite
def data_frames(draw: st.DrawFn) -> DataFrame:
    pad_mask = draw(pad_masks)
    n_pads = bin(pad_mask).count("1")
    n_sets = draw(st.integers(1, _max_sets(n_pads)))
    seed = draw(st.integers(0, 2**32 - 1))
    samples = np.random.default_rng(seed).integers(0, 4096, size=(n_sets, n_pads))
    return DataFrame(
        foot=draw(feet), insole_tag=draw(tags), seq=draw(u16), pad_mask=pad_mask,
        t_first_us=draw(st.integers(0, (1 << 24) - 1)),
        rate_hz=draw(st.integers(RATE_MIN_HZ, RATE_MAX_HZ)), samples=samples,
    )  # fmt: skip


def _head(draw: st.DrawFn) -> dict[str, object]:
    return {"foot": draw(feet), "insole_tag": draw(tags), "seq": draw(u16),
            "pad_mask": draw(st.integers(0, 0x3F))}  # fmt: skip


@st.composite
def status_frames(draw: st.DrawFn) -> Frame:
    head = _head(draw)
    page = draw(st.integers(0, 4))
    if page == 0:
        return StatusIdentity(**head, insole_id=draw(u32), boot_id=draw(u16), fw_major=draw(u8),
                              fw_minor=draw(u8), fw_patch=draw(u8), rate_hz=draw(u8),
                              flags=draw(u8))  # fmt: skip
    if page == 1:
        return StatusClock(**head, device_time_us=draw(u32), battery_mv=draw(u16),
                           battery_pct=draw(u8), last_data_seq=draw(u16),
                           oversample=draw(u8))  # fmt: skip
    if page == 2:
        return StatusCounters(**head, frames_sent=draw(u16), frames_resent=draw(u16),
                              frames_dropped=draw(u16), notify_retries=draw(u16),
                              ring_frames=draw(u16), ring_span_ds=draw(u16))  # fmt: skip
    if page == 3:
        return StatusTiming(**head, jitter_mean_us=draw(u16), jitter_max_us=draw(u16),
                            late_samples=draw(u16), fault_open_mask=draw(u8),
                            fault_short_mask=draw(u8))  # fmt: skip
    offsets = tuple(draw(st.lists(st.integers(0, 4095), min_size=6, max_size=6)))
    return StatusTare(**head, tare_offsets=offsets)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    head = _head(draw)
    opcode = draw(st.integers(0, 0xFF))
    layout = REPLY_DATA.get(opcode)
    data: dict[str, int | float | str] = {}
    if layout is not None and draw(st.booleans()):
        for name, code in zip(layout.names, layout.fmt, strict=True):
            data[name] = draw({"H": u16, "I": u32, "B": st.integers(0, 5), "f": f32}[code])
    result = RESULT_OK if data else draw(st.sampled_from([RESULT_OK, RESULT_NOT_HELD, 3, 5]))
    return Reply(**head, opcode=opcode, result=result, data=data)


_ARG_VALUES = {
    "rate_hz": st.integers(RATE_MIN_HZ, RATE_MAX_HZ), "pad_mask": pad_masks,
    "host_token": u32, "first_seq": u16, "last_seq": u16, "seconds": st.integers(1, 30),
    "pad_bit": st.integers(0, 5), "gain": f32, "exponent": f32, "oversample": st.integers(1, 16),
}  # fmt: skip


@st.composite
def controls(draw: st.DrawFn) -> Control:
    opcode = draw(st.sampled_from(sorted({*CONTROL_ARGS, OP_SET_NAME})))
    if opcode == OP_SET_NAME:
        args: dict[str, int | float | str] = {
            "name": draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
                                 max_size=11))
        }  # fmt: skip
    else:
        args = {name: draw(_ARG_VALUES[name]) for name in CONTROL_ARGS[opcode].names}
    return make_control(opcode, draw(u16), foot=draw(feet), insole_tag=draw(tags), **args)


any_frames = st.one_of(data_frames(), status_frames(), replies(), controls())
