"""The frames of the wire protocol as immutable values, one class per kind (and status page).

Field names are the names in docs/protocol.md. Every frame carries the header fields `foot`,
`insole_tag` (low 7 bits of the insole id) and `seq` (frame number, status counter or request
id, by kind); frames from the insole also carry `pad_mask`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from numbguard.errors import BadValue
from numbguard.pads import Foot, pads_from_mask
from numbguard.protocol.constants import (
    FIRMWARE_TASKS,
    KIND_CONTROL,
    KIND_DATA,
    KIND_REPLY,
    KIND_STATUS,
    MAX_VALUE,
    OPCODE_NAMES,
    PAGE_CLOCK,
    PAGE_COUNTERS,
    PAGE_IDENTITY,
    PAGE_TARE,
    PAGE_TIMING,
    RESET_ERRORS,
    RESET_NONE,
    RESET_TASK,
    RESET_WATCHDOG,
    RESULT_NAMES,
    RESULT_OK,
)

U16Array = npt.NDArray[np.uint16]
ArgValue = int | float | str


def _are_counts(values: npt.NDArray[Any]) -> bool:
    if values.dtype == np.uint16:  # as decoded: only the top can be out of range
        return int(values.max()) <= MAX_VALUE
    return values.dtype.kind in "iu" and int(values.min()) >= 0 and int(values.max()) <= MAX_VALUE


@dataclass(frozen=True, kw_only=True)
class FrameHeader:
    """Fields of the 5-byte header common to every kind."""

    kind: ClassVar[int]
    foot: Foot = "left"
    insole_tag: int = 0
    seq: int = 0


@dataclass(frozen=True, kw_only=True)
class InsoleFrame(FrameHeader):
    """A frame sent by an insole: the header also says which pads it has."""

    pad_mask: int

    @property
    def pads(self) -> tuple[str, ...]:
        return pads_from_mask(self.pad_mask)


@dataclass(frozen=True, kw_only=True, eq=False)
class DataFrame(InsoleFrame):
    """Sample sets, oldest first: `samples[i, j]` is set i of pad `pads[j]`, in ADC counts."""

    kind: ClassVar[int] = KIND_DATA
    t_first_us: int  # low 24 bits of the device clock at the first set
    rate_hz: int
    samples: U16Array = field(repr=False)

    def __post_init__(self) -> None:
        # A frame is a value: its samples must not change under whoever holds it.
        given = np.asarray(self.samples)
        if given.size and not _are_counts(given):
            raise BadValue(
                "samples must be 12-bit ADC counts",
                expected=f"integers 0-{MAX_VALUE}",
                got=f"{given.dtype} values {given.min()}-{given.max()}",
                name="samples",
            )
        samples = np.array(given, dtype=np.uint16, copy=True)
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)

    @property
    def n_sets(self) -> int:
        return int(self.samples.shape[0]) if self.samples.ndim == 2 else 0

    @property
    def span_us(self) -> float:
        """Time the frame covers: one sample period per set."""
        return self.n_sets * 1e6 / self.rate_hz

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataFrame):
            return NotImplemented
        return (
            (self.foot, self.insole_tag, self.seq, self.pad_mask, self.t_first_us, self.rate_hz)
            == (
                other.foot,
                other.insole_tag,
                other.seq,
                other.pad_mask,
                other.t_first_us,
                other.rate_hz,
            )
            and self.samples.shape == other.samples.shape
            and bool(np.array_equal(self.samples, other.samples))
        )

    __hash__ = None  # type: ignore[assignment]  # holds an array


@dataclass(frozen=True, kw_only=True)
class StatusFrame(InsoleFrame):
    """Base of the status pages; `seq` is the status counter."""

    kind: ClassVar[int] = KIND_STATUS
    page: ClassVar[int]


@dataclass(frozen=True, kw_only=True)
class StatusIdentity(StatusFrame):
    page: ClassVar[int] = PAGE_IDENTITY
    insole_id: int
    boot_id: int  # random per boot: a change means the insole restarted
    fw_major: int
    fw_minor: int
    fw_patch: int
    rate_hz: int
    flags: int  # FLAG_STREAMING | FLAG_CONNECTED | FLAG_CONFIG_LOADED


@dataclass(frozen=True, kw_only=True)
class StatusClock(StatusFrame):
    page: ClassVar[int] = PAGE_CLOCK
    device_time_us: int  # full 32-bit device clock when the page was built
    battery_mv: int
    battery_pct: int
    last_data_seq: int
    oversample: int


@dataclass(frozen=True, kw_only=True)
class StatusCounters(StatusFrame):
    page: ClassVar[int] = PAGE_COUNTERS
    frames_sent: int
    frames_resent: int
    frames_dropped: int
    notify_retries: int
    ring_frames: int
    ring_span_ds: int


@dataclass(frozen=True, kw_only=True)
class StatusTiming(StatusFrame):
    page: ClassVar[int] = PAGE_TIMING
    jitter_mean_us: int
    jitter_max_us: int
    late_samples: int
    fault_open_mask: int
    fault_short_mask: int
    reset_reason: int = RESET_NONE  # why the previous boot ended (RESET_*)
    reset_error: int = 0  # the exception, for a task that raised (index in RESET_ERRORS)

    def previous_boot_ended(self) -> str | None:
        """Why the insole's previous boot ended, in words; None when nothing went wrong."""
        if self.reset_reason == RESET_NONE:
            return None
        if self.reset_reason == RESET_WATCHDOG:
            return "watchdog reset: a firmware task stopped making progress"
        task_index = self.reset_reason - RESET_TASK
        task = (
            FIRMWARE_TASKS[task_index]
            if 0 <= task_index < len(FIRMWARE_TASKS)
            else f"task {task_index}"
        )
        error = (
            RESET_ERRORS[self.reset_error]
            if 0 < self.reset_error < len(RESET_ERRORS)
            else "an exception"
        )
        return f"the {task} task failed with {error} and the insole reset"


@dataclass(frozen=True, kw_only=True)
class StatusTare(StatusFrame):
    page: ClassVar[int] = PAGE_TARE
    tare_offsets: tuple[int, ...]  # six values in pad-bit order, zero for absent pads


StatusPage = StatusIdentity | StatusClock | StatusCounters | StatusTiming | StatusTare
STATUS_PAGE_CLASSES: dict[int, type[StatusPage]] = {
    cls.page: cls for cls in (StatusIdentity, StatusClock, StatusCounters, StatusTiming, StatusTare)
}


@dataclass(frozen=True, kw_only=True)
class Reply(InsoleFrame):
    """The insole's answer to one control frame; `seq` is the request id."""

    kind: ClassVar[int] = KIND_REPLY
    opcode: int
    result: int
    data: dict[str, ArgValue] = field(default_factory=dict)  # reply data, named as in the doc

    @property
    def ok(self) -> bool:
        return self.result == RESULT_OK

    def describe(self) -> str:
        return (
            f"{OPCODE_NAMES.get(self.opcode, f'opcode {self.opcode}')} -> "
            f"{RESULT_NAMES.get(self.result, f'result {self.result}')}"
        )


@dataclass(frozen=True, kw_only=True)
class Control(FrameHeader):
    """A command to an insole; `seq` is the request id its reply echoes.

    `insole_tag` 0 with foot "left" (header byte 0) addresses whichever insole gets it.
    """

    kind: ClassVar[int] = KIND_CONTROL
    opcode: int
    args: dict[str, ArgValue] = field(default_factory=dict)  # arguments, named as in the doc


Frame = DataFrame | StatusPage | Reply | Control


def frame_fields(frame: Frame) -> dict[str, Any]:
    """The frame's fields by their names in docs/protocol.md, as plain JSON-able values."""
    out: dict[str, Any] = {}
    for item in fields(frame):
        value = getattr(frame, item.name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            out.update(value)
            continue
        out[item.name] = value
    if isinstance(frame, StatusFrame):
        out["page"] = frame.page
    return out
