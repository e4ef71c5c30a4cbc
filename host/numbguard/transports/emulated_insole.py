"""A CPython insole: samples a deterministic gait trace, frames it, keeps a ring, obeys control.

It speaks docs/protocol.md through `numbguard.protocol`'s encoders and knows nothing of the
link: `poll()` returns the frames due by a given time, `handle_control()` the reply (and any
resent frames or status pages) for one control frame. The BLE peripheral and the serial peer
carry those bytes. Sample values are a pure function of the sample index (`sample_set`), so a
test can check every sample the host received against what the insole took.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, TypedDict

from numbguard.errors import InputError
from numbguard.pads import Foot, pads_from_mask
from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import (
    ALL_PADS_MASK,
    CRC_BYTES,
    DEVICE_CLOCK_MODULO,
    HEADER_BYTES,
    IDENTIFY_MAX_S,
    KIND_CONTROL,
    MAX_FRAME_BYTES,
    MIN_FRAME_BYTES,
    NAME_MAX_BYTES,
    OP_FORGET_BONDS,
    OP_GET_CAL,
    OP_GET_STATUS,
    OP_IDENTIFY,
    OP_RESEND,
    OP_SET_CAL,
    OP_SET_NAME,
    OP_SET_OVERSAMPLE,
    OP_SET_PADS,
    OP_SET_RATE,
    OP_START,
    OP_STOP,
    OP_TARE,
    OP_TIME_SYNC,
    OVERSAMPLE_MAX,
    PAD_COUNT,
    PROTOCOL_VERSION,
    RATE_DEFAULT_HZ,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    RESULT_BAD_CRC,
    RESULT_BAD_LENGTH,
    RESULT_BAD_VERSION,
    RESULT_NOT_HELD,
    RESULT_OK,
    RESULT_OUT_OF_RANGE,
    RESULT_UNKNOWN_OPCODE,
    SEQ_MODULO,
    STATUS_PERIOD_MS,
    T_FIRST_MODULO,
)
from numbguard.protocol.control import CONTROL_ARGS, CONTROL_OPCODES
from numbguard.protocol.crc import crc16_ccitt_false
from numbguard.protocol.frames import (
    ArgValue,
    Control,
    DataFrame,
    Reply,
    StatusClock,
    StatusCounters,
    StatusIdentity,
    StatusPage,
    StatusTare,
    StatusTiming,
)
from numbguard.protocol.packing import sets_per_frame

FIRMWARE_VERSION: Final = (1, 0, 0)
DEFAULT_RING_FRAMES: Final = 4096
STRIDE_MS: Final = 720  # one stride of the synthetic gait (about 167 steps/min with both feet)
STANCE_MS: Final = 260

Channel = Literal["data", "status"]
SampleSource = Callable[[int, int, int], list[int]]  # (sample index, rate_hz, pad mask) -> counts


# What the firmware accepts in SET_CAL (firmware/config.py GAIN_MIN/MAX, EXPONENT_MIN/MAX).
CAL_GAIN_RANGE: Final = (1e-13, 1e13)
CAL_EXPONENT_RANGE: Final = (0.2, 5.0)


class _Head(TypedDict):
    foot: Foot
    insole_tag: int
    seq: int
    pad_mask: int


@dataclass(frozen=True)
class Outgoing:
    """One frame for the link: data frames go on the data channel, the rest on status."""

    channel: Channel
    frame: bytes
    seq: int = -1  # data frame sequence number, -1 for other kinds


def sample_set(sample_index: int, rate_hz: int, pad_mask: int) -> list[int]:
    """ADC counts of every present pad for sample `sample_index`: a running gait, per pad.

    Heel loads early in stance, the forefoot late; the lace pads carry a steady dorsal load
    that rises a little in stance. Integer-valued and deterministic.
    """
    t_ms = sample_index * 1000 // rate_hz
    phase_ms = t_ms % STRIDE_MS
    stance = phase_ms < STANCE_MS
    x = phase_ms / STANCE_MS if stance else 0.0
    heel = 2600 * math.sin(math.pi * min(1.0, x / 0.5)) if stance and x < 0.5 else 0.0
    fore = 3000 * math.sin(math.pi * x) ** 2 if stance else 0.0
    by_pad = {
        "heel": 120 + heel,
        "ball_medial": 150 + 0.8 * fore,
        "ball_center": 150 + fore,
        "ball_lateral": 150 + 0.6 * fore,
        "lace_lower": 700 + (250 * x if stance else 0.0),
        "lace_upper": 800 + (300 * x if stance else 0.0),
    }
    return [min(4095, round(by_pad[pad])) for pad in pads_from_mask(pad_mask)]


class InsoleEmulator:
    """One insole's firmware behaviour, in CPython, driven by the caller's clock.

    `streaming` starts True so a freshly connected host sees data at once, as the firmware
    does after boot; STOP and START switch it.
    """

    def __init__(
        self,
        *,
        foot: Foot,
        insole_id: int,
        rate_hz: int = RATE_DEFAULT_HZ,
        pad_mask: int = ALL_PADS_MASK,
        clock_offset_us: int = 0,
        boot_id: int | None = None,
        ring_frames: int = DEFAULT_RING_FRAMES,
        streaming: bool = True,
        sample_source: SampleSource | None = None,
    ) -> None:
        self.foot: Foot = foot
        self.insole_id = insole_id & 0xFFFFFFFF
        self.insole_tag = insole_id & 0x7F
        self.rate_hz = rate_hz
        self.pad_mask = pad_mask
        self.clock_offset_us = clock_offset_us
        self.boot_id = random.randrange(1 << 16) if boot_id is None else boot_id
        self.streaming = streaming
        # Counts of every present pad for a sample index; the synthetic gait by default, a
        # simulated session's pressures for the `sim` transport.
        self.sample_source: SampleSource = sample_source or sample_set
        self.host_connected = False
        self.battery_pct = 87
        self.name = ""
        self.oversample = 1
        self.ring: OrderedDict[int, bytes] = OrderedDict()
        self.ring_frames = ring_frames
        self.frames_sent = 0
        self.frames_resent = 0
        self.frames_dropped = 0
        self.samples_taken = 0
        self.tare = [0] * 6
        self.calibration: dict[int, tuple[float, float]] = {}
        self._start_s: float | None = None
        self._next_sample = 0  # index of the next sample to take
        # The sample grid restarts, as the firmware's does, on START and on a new rate, pads
        # or oversampling: its first sample index, and its start in seconds and in
        # microseconds after boot (the device clock without its offset).
        self._grid_sample = 0
        self._grid_s = 0.0
        self._grid_us = 0
        self._pending: list[list[int]] = []  # sample sets not yet in a frame
        self._pending_first = 0  # sample index of _pending[0]
        self._seq = 0
        self._status_counter = 0
        self._next_status_s = 0.0
        self._status_page = 0

    @property
    def advertised_name(self) -> str:
        return f"NG{'L' if self.foot == 'left' else 'R'}-{self.insole_id & 0xFFFF:04X}"

    @property
    def firmware_version(self) -> str:
        return ".".join(str(part) for part in FIRMWARE_VERSION)

    # -- clock -------------------------------------------------------------------------------

    def _device_us(self, now_s: float) -> int:
        start = self._start_s if self._start_s is not None else now_s
        return (round((now_s - start) * 1e6) + self.clock_offset_us) % DEVICE_CLOCK_MODULO

    def _sample_us(self, sample_index: int) -> int:
        t_us = self._grid_us + (sample_index - self._grid_sample) * 1_000_000 // self.rate_hz
        return (t_us + self.clock_offset_us) % DEVICE_CLOCK_MODULO

    def _source_index(self, sample_index: int) -> int:
        """The sample's time after boot in periods of the current rate: what the sample
        source reads, so the trace carries on across a change of rate."""
        return self._grid_us * self.rate_hz // 1_000_000 + sample_index - self._grid_sample

    def _flush(self) -> list[Outgoing]:
        """The frame being built, finished now (none if it holds no sample)."""
        return [self._close_data_frame()] if self._pending else []

    def _restart_grid(self, now_s: float) -> list[Outgoing]:
        """Finish the frame being built and start the sample grid from now, as the firmware
        does on START and on a new rate, pads or oversampling (firmware/insole.py)."""
        out = self._flush()
        start_s = self._start_s if self._start_s is not None else now_s
        self._grid_sample = self._next_sample
        self._grid_s = now_s - start_s
        self._grid_us = round(self._grid_s * 1e6)
        return out

    # -- frames out ----------------------------------------------------------------------

    def poll(self, now_s: float, max_frame_bytes: int = MAX_FRAME_BYTES) -> list[Outgoing]:
        """Frames due by `now_s` (seconds on the caller's clock): data, then a status page."""
        if self._start_s is None:
            self._start_s = now_s
            self._next_status_s = now_s
        out: list[Outgoing] = []
        if self.streaming:
            out += self._sample_until(now_s, max_frame_bytes)
        if now_s >= self._next_status_s:
            out.append(self._status(self._status_page, now_s))
            self._status_page = (self._status_page + 1) % 5
            self._next_status_s += STATUS_PERIOD_MS / 1000
        return out

    def _sample_until(self, now_s: float, max_frame_bytes: int) -> list[Outgoing]:
        assert self._start_s is not None
        elapsed_s = now_s - self._start_s - self._grid_s
        due = self._grid_sample + math.floor(elapsed_s * self.rate_hz + 1e-9) + 1
        n_pads = len(pads_from_mask(self.pad_mask))
        per_frame = sets_per_frame(max_frame_bytes + 3, n_pads, self.rate_hz)
        out: list[Outgoing] = []
        while self._next_sample < due:
            if not self._pending:
                self._pending_first = self._next_sample
            source_index = self._source_index(self._next_sample)
            self._pending.append(self.sample_source(source_index, self.rate_hz, self.pad_mask))
            self._next_sample += 1
            self.samples_taken += 1
            if len(self._pending) >= per_frame:
                out.append(self._close_data_frame())
        return out

    def _close_data_frame(self) -> Outgoing:
        seq = self._seq
        frame = DataFrame(
            foot=self.foot,
            insole_tag=self.insole_tag,
            seq=seq,
            pad_mask=self.pad_mask,
            t_first_us=self._sample_us(self._pending_first) % T_FIRST_MODULO,
            rate_hz=self.rate_hz,
            samples=self._pending,  # type: ignore[arg-type]  # converted to an array
        )
        raw = encode_frame(frame)
        self._pending = []
        self._seq = (seq + 1) % SEQ_MODULO
        self.ring[seq] = raw
        if len(self.ring) > self.ring_frames:
            self.ring.popitem(last=False)
        self.frames_sent += 1
        return Outgoing("data", raw, seq)

    def _ring_span_ds(self) -> int:
        if not self.ring:
            return 0
        first = decode_frame(next(iter(self.ring.values())))
        assert isinstance(first, DataFrame)
        held_sets = self._pending_first - self._sample_index_of(first)
        return held_sets * 10 // self.rate_hz

    def _sample_index_of(self, frame: DataFrame) -> int:
        # t_first_us wraps every 16.78 s; only the span of the ring matters here.
        now_us = self._sample_us(self._pending_first) % T_FIRST_MODULO
        back_us = (now_us - frame.t_first_us) % T_FIRST_MODULO
        return self._pending_first - back_us * self.rate_hz // 1_000_000

    def _status(self, page: int, now_s: float) -> Outgoing:
        head = _Head(
            foot=self.foot, insole_tag=self.insole_tag, seq=self._status_counter,
            pad_mask=self.pad_mask,
        )  # fmt: skip
        self._status_counter = (self._status_counter + 1) % SEQ_MODULO
        frame: StatusPage
        if page == 0:
            flags = (1 if self.streaming else 0) | (2 if self.host_connected else 0)
            major, minor, patch = FIRMWARE_VERSION
            frame = StatusIdentity(
                **head, insole_id=self.insole_id, boot_id=self.boot_id, fw_major=major,
                fw_minor=minor, fw_patch=patch, rate_hz=self.rate_hz, flags=flags,
            )  # fmt: skip
        elif page == 1:
            frame = StatusClock(
                **head, device_time_us=self._device_us(now_s), battery_mv=3900,
                battery_pct=self.battery_pct, last_data_seq=(self._seq - 1) % SEQ_MODULO,
                oversample=self.oversample,
            )  # fmt: skip
        elif page == 2:
            frame = StatusCounters(
                **head, frames_sent=self.frames_sent % SEQ_MODULO,
                frames_resent=self.frames_resent % SEQ_MODULO,
                frames_dropped=self.frames_dropped % SEQ_MODULO, notify_retries=0,
                ring_frames=len(self.ring),
                ring_span_ds=min(0xFFFF, self._ring_span_ds()),
            )  # fmt: skip
        elif page == 3:
            frame = StatusTiming(
                **head, jitter_mean_us=0, jitter_max_us=0, late_samples=0, fault_open_mask=0,
                fault_short_mask=0,
            )  # fmt: skip
        else:
            frame = StatusTare(**head, tare_offsets=tuple(self.tare))
        return Outgoing("status", encode_frame(frame))

    # -- control in ----------------------------------------------------------------------

    def handle_control(
        self, raw: bytes, now_s: float, max_frame_bytes: int = MAX_FRAME_BYTES
    ) -> list[Outgoing]:
        """The reply to one control frame, then any frames it asks for."""
        try:
            control = decode_frame(raw)
        except InputError:
            refusal = _refusal(raw)
            if refusal is None:
                return []  # too damaged to answer: the host times out and retries
            request_id, opcode, result = refusal
            return [self._reply(request_id, opcode, result)]
        if not isinstance(control, Control):
            return []
        return self._obey(control, now_s)

    def _reply(self, request_id: int, opcode: int, result: int, **data: ArgValue) -> Outgoing:
        reply = Reply(
            foot=self.foot, insole_tag=self.insole_tag, seq=request_id, pad_mask=self.pad_mask,
            opcode=opcode, result=result, data=dict(data),
        )  # fmt: skip
        return Outgoing("status", encode_frame(reply))

    def _obey(self, control: Control, now_s: float) -> list[Outgoing]:
        op, args, rid = control.opcode, control.args, control.seq

        def ok(**data: ArgValue) -> list[Outgoing]:
            return [self._reply(rid, op, RESULT_OK, **data)]

        def out_of_range() -> list[Outgoing]:
            return [self._reply(rid, op, RESULT_OUT_OF_RANGE)]

        def arg(name: str) -> int:
            return int(args[name])

        if op == OP_START:
            if self.streaming:
                return ok()
            self.streaming = True
            return ok() + self._restart_grid(now_s)
        if op == OP_STOP:
            self.streaming = False
            return ok() + self._flush()
        if op == OP_SET_RATE:
            if not RATE_MIN_HZ <= arg("rate_hz") <= RATE_MAX_HZ:
                return out_of_range()
            flushed = self._restart_grid(now_s)
            self.rate_hz = arg("rate_hz")
            return ok() + flushed
        if op == OP_TARE:
            return ok()
        if op == OP_TIME_SYNC:
            return ok(host_token=arg("host_token"), device_time_us=self._device_us(now_s))
        if op == OP_RESEND:
            return self._resend(rid, arg("first_seq"), arg("last_seq"))
        if op == OP_IDENTIFY:
            return ok() if 1 <= arg("seconds") <= IDENTIFY_MAX_S else out_of_range()
        if op == OP_GET_STATUS:
            return ok() + [self._status(page, now_s) for page in range(5)]
        if op == OP_SET_PADS:
            if not 0 < arg("pad_mask") <= ALL_PADS_MASK:
                return out_of_range()
            flushed = self._restart_grid(now_s)
            self.pad_mask = arg("pad_mask")
            return ok() + flushed
        if op == OP_SET_NAME:
            name = str(args["name"])
            printable = all(" " <= ch <= "~" for ch in name)
            if not (1 <= len(name) <= NAME_MAX_BYTES and printable):
                return out_of_range()
            self.name = name
            return ok()
        if op == OP_SET_CAL:
            gain, exponent = float(args["gain"]), float(args["exponent"])
            if not (
                0 <= arg("pad_bit") < PAD_COUNT
                and CAL_GAIN_RANGE[0] <= gain <= CAL_GAIN_RANGE[1]
                and CAL_EXPONENT_RANGE[0] <= exponent <= CAL_EXPONENT_RANGE[1]
            ):
                return out_of_range()
            self.calibration[arg("pad_bit")] = (gain, exponent)
            return ok()
        if op == OP_GET_CAL:
            if not 0 <= arg("pad_bit") < PAD_COUNT:
                return out_of_range()
            gain, exponent = self.calibration.get(arg("pad_bit"), (1.0, 1.0))
            return ok(pad_bit=arg("pad_bit"), gain=gain, exponent=exponent)
        if op == OP_SET_OVERSAMPLE:
            if not 1 <= arg("oversample") <= OVERSAMPLE_MAX:
                return out_of_range()
            flushed = self._restart_grid(now_s)
            self.oversample = arg("oversample")
            return ok() + flushed
        if op == OP_FORGET_BONDS:
            return ok()  # the emulator is reached without bonds (simulator, serial)
        return [self._reply(rid, op, RESULT_UNKNOWN_OPCODE)]

    def _resend(self, request_id: int, first_seq: int, last_seq: int) -> list[Outgoing]:
        count = (last_seq - first_seq) % SEQ_MODULO + 1
        wanted = [(first_seq + i) % SEQ_MODULO for i in range(count)]
        held = [seq for seq in wanted if seq in self.ring]
        oldest = next(iter(self.ring), 0)
        if not held:
            return [self._reply(request_id, OP_RESEND, RESULT_NOT_HELD, frames_queued=0,
                                oldest_seq_held=oldest)]  # fmt: skip
        self.frames_resent += len(held)
        reply = self._reply(
            request_id, OP_RESEND, RESULT_OK, frames_queued=len(held), oldest_seq_held=oldest
        )
        return [reply] + [Outgoing("data", self.ring[seq], seq) for seq in held]


def _refusal(raw: bytes) -> tuple[int, int, int] | None:
    """(request id, opcode, result) for a control frame the decoder refused, in the order
    the firmware checks (firmware/protocol.py `parse_control`); None where the firmware sends
    no reply (too short or long to carry a request id, or not a control frame)."""
    if not MIN_FRAME_BYTES <= len(raw) <= MAX_FRAME_BYTES:
        return None
    request_id = raw[3] | raw[4] << 8
    body_end = len(raw) - CRC_BYTES
    opcode = raw[HEADER_BYTES] if body_end > HEADER_BYTES else 0
    if crc16_ccitt_false(raw[:body_end]) != raw[body_end] | raw[body_end + 1] << 8:
        return request_id, opcode, RESULT_BAD_CRC
    if raw[0] != PROTOCOL_VERSION:
        return request_id, opcode, RESULT_BAD_VERSION
    if raw[1] >> 6 != KIND_CONTROL:
        return None
    if body_end == HEADER_BYTES:
        return request_id, 0, RESULT_BAD_LENGTH
    if opcode not in CONTROL_OPCODES:
        return request_id, opcode, RESULT_UNKNOWN_OPCODE
    n_args = body_end - HEADER_BYTES - 1
    if opcode == OP_SET_NAME:
        sized = 1 <= n_args <= NAME_MAX_BYTES
    else:
        sized = n_args == CONTROL_ARGS[opcode].size
    # Sized right but refused by the decoder: a value the firmware would not take either
    # (a name that is not printable ASCII).
    return request_id, opcode, RESULT_OUT_OF_RANGE if sized else RESULT_BAD_LENGTH
