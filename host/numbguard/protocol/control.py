"""Arguments of control frames and data of reply frames: layouts per opcode, and checked builders.

`make_control` is what the host uses to build commands: it checks every argument against its
range in docs/protocol.md, so the host never sends a command the insole would refuse.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from numbguard.errors import BadValue
from numbguard.pads import Foot
from numbguard.protocol.constants import (
    ALL_PADS_MASK,
    IDENTIFY_MAX_S,
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
    OPCODE_NAMES,
    OVERSAMPLE_MAX,
    PAD_COUNT,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    SEQ_MODULO,
)
from numbguard.protocol.errors import FrameError
from numbguard.protocol.frames import ArgValue, Control


@dataclass(frozen=True)
class Layout:
    """A fixed layout of little-endian fields, with the range each integer must be in."""

    fmt: str
    names: tuple[str, ...]
    ranges: tuple[tuple[int, int] | None, ...] = ()

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.fmt)

    def pack(self, values: dict[str, ArgValue], what: str) -> bytes:
        if set(values) != set(self.names):
            raise BadValue(
                f"wrong arguments for {what}",
                expected=", ".join(self.names) or "none",
                got=", ".join(sorted(values)) or "none",
                name=f"{what} arguments",
            )
        try:
            return struct.pack("<" + self.fmt, *(values[name] for name in self.names))
        except struct.error as error:
            raise BadValue(
                f"argument does not fit its field in {what}",
                got=str(error),
                name=f"{what} arguments",
            ) from None

    def unpack(self, data: bytes) -> dict[str, ArgValue]:
        values = struct.unpack("<" + self.fmt, data)
        for name, value in zip(self.names, values, strict=True):
            # NaN or infinity is never a calibration constant (and would not encode back).
            if isinstance(value, float) and not math.isfinite(value):
                raise FrameError("bad_value", f"{name} is not a finite number", got=repr(value))
        return dict(zip(self.names, values, strict=True))

    def check_ranges(self, values: dict[str, ArgValue], what: str) -> None:
        for name, bounds in zip(self.names, self.ranges, strict=False):
            value = values[name]
            if isinstance(value, float) and not math.isfinite(value):
                raise BadValue(
                    f"{what} argument {name} is not a finite number", got=repr(value), name=name
                )
            if bounds is not None and not (
                isinstance(value, int) and bounds[0] <= value <= bounds[1]
            ):
                raise BadValue(
                    f"{what} argument {name} out of range",
                    expected=f"an integer {bounds[0]}-{bounds[1]}",
                    got=repr(value),
                    name=name,
                )


_PAD_BIT = (0, PAD_COUNT - 1)
_U16 = (0, SEQ_MODULO - 1)

# SET_NAME has a variable-length argument and is handled apart.
CONTROL_ARGS: dict[int, Layout] = {
    OP_START: Layout("", ()),
    OP_STOP: Layout("", ()),
    OP_SET_RATE: Layout("B", ("rate_hz",), ((RATE_MIN_HZ, RATE_MAX_HZ),)),
    OP_TARE: Layout("B", ("pad_mask",), ((0, ALL_PADS_MASK),)),
    OP_TIME_SYNC: Layout("I", ("host_token",), ((0, (1 << 32) - 1),)),
    OP_RESEND: Layout("HH", ("first_seq", "last_seq"), (_U16, _U16)),
    OP_IDENTIFY: Layout("B", ("seconds",), ((1, IDENTIFY_MAX_S),)),
    OP_GET_STATUS: Layout("", ()),
    OP_SET_PADS: Layout("B", ("pad_mask",), ((1, ALL_PADS_MASK),)),
    OP_SET_CAL: Layout("Bff", ("pad_bit", "gain", "exponent"), (_PAD_BIT, None, None)),
    OP_GET_CAL: Layout("B", ("pad_bit",), (_PAD_BIT,)),
    OP_SET_OVERSAMPLE: Layout("B", ("oversample",), ((1, OVERSAMPLE_MAX),)),
    OP_FORGET_BONDS: Layout("", ()),
}
CONTROL_OPCODES: frozenset[int] = frozenset({*CONTROL_ARGS, OP_SET_NAME})

# Reply data sent with RESULT_OK (other results and other opcodes carry none).
REPLY_DATA: dict[int, Layout] = {
    OP_TIME_SYNC: Layout("II", ("host_token", "device_time_us")),
    OP_RESEND: Layout("HH", ("frames_queued", "oldest_seq_held")),
    OP_GET_CAL: Layout("Bff", ("pad_bit", "gain", "exponent")),
}


def opcode_name(opcode: int) -> str:
    return OPCODE_NAMES.get(opcode, f"opcode {opcode}")


def _check_name(name: ArgValue) -> bytes:
    if not (isinstance(name, str) and name.isascii() and name.isprintable()):
        raise BadValue("insole name must be printable ASCII", got=repr(name), name="name")
    raw = name.encode("ascii")
    if not 1 <= len(raw) <= NAME_MAX_BYTES:
        raise BadValue(
            "insole name length out of range",
            expected=f"1-{NAME_MAX_BYTES} characters",
            got=f"{len(raw)} ({name!r})",
            name="name",
        )
    return raw


def pack_control_args(opcode: int, args: dict[str, ArgValue]) -> bytes:
    """The argument bytes of a control frame (field sizes checked, ranges not)."""
    what = opcode_name(opcode)
    if opcode == OP_SET_NAME:
        if set(args) != {"name"}:
            raise BadValue(
                f"wrong arguments for {what}",
                expected="name",
                got=", ".join(args),
                name=f"{what} arguments",
            )
        return _check_name(args["name"])
    layout = CONTROL_ARGS.get(opcode)
    if layout is None:
        raise BadValue(
            "unknown control opcode",
            expected="an opcode of docs/protocol.md",
            got=str(opcode),
            name="opcode",
        )
    return layout.pack(args, what)


def unpack_control_args(opcode: int, data: bytes) -> dict[str, ArgValue]:
    """Arguments of a control frame by name; raises `FrameError` if they do not fit."""
    what = opcode_name(opcode)
    if opcode == OP_SET_NAME:
        if not 1 <= len(data) <= NAME_MAX_BYTES:
            raise FrameError(
                "bad_length",
                "insole name length out of range",
                expected=f"1-{NAME_MAX_BYTES} bytes",
                got=f"{len(data)} bytes",
            )
        name = data.decode("latin-1")
        if not (name.isascii() and name.isprintable()):
            raise FrameError("bad_value", "insole name must be printable ASCII", got=repr(data))
        return {"name": name}
    layout = CONTROL_ARGS[opcode]
    if len(data) != layout.size:
        raise FrameError(
            "bad_length",
            f"wrong argument length for {what}",
            expected=f"{layout.size} bytes",
            got=f"{len(data)} bytes",
        )
    return layout.unpack(data)


def pack_reply_data(opcode: int, data: dict[str, ArgValue]) -> bytes:
    if not data:
        return b""
    layout = REPLY_DATA.get(opcode)
    if layout is None:
        raise BadValue(
            f"{opcode_name(opcode)} replies carry no data",
            got=", ".join(data),
            name=f"{opcode_name(opcode)} reply data",
        )
    return layout.pack(data, f"{opcode_name(opcode)} reply")


def unpack_reply_data(opcode: int, data: bytes) -> dict[str, ArgValue]:
    if not data:
        return {}
    layout = REPLY_DATA.get(opcode)
    if layout is None or len(data) != layout.size:
        expected = f"{layout.size} bytes" if layout else "no data"
        raise FrameError(
            "bad_length",
            f"wrong reply data length for {opcode_name(opcode)}",
            expected=f"0 or {expected}" if layout else expected,
            got=f"{len(data)} bytes",
        )
    return layout.unpack(data)


def make_control(
    opcode: int, request_id: int, *, foot: Foot = "left", insole_tag: int = 0, **args: ArgValue
) -> Control:
    """A control frame with every argument checked against its documented range.

    Example: ``make_control(OP_RESEND, 7, first_seq=100, last_seq=140)``.
    """
    if not 0 <= request_id < SEQ_MODULO:
        raise BadValue(
            "request id out of range",
            expected=f"0-{SEQ_MODULO - 1}",
            got=str(request_id),
            name="request_id",
        )
    layout = CONTROL_ARGS.get(opcode)
    if layout is not None and set(args) == set(layout.names):
        layout.check_ranges(args, opcode_name(opcode))
    pack_control_args(opcode, args)  # checks the names, field sizes and the name rules
    return Control(foot=foot, insole_tag=insole_tag, seq=request_id, opcode=opcode, args=args)
