"""Numbers of the wire protocol, version 1 (docs/protocol.md), named as there.

`firmware/protocol.py` holds the same names for the insole; tests/test_protocol_doc.py checks
both against the tables of the document.
"""

from __future__ import annotations

from typing import Final

PROTOCOL_VERSION: Final = 1

# Frame kinds (bits 7-6 of header byte 1).
KIND_DATA: Final = 0
KIND_STATUS: Final = 1
KIND_REPLY: Final = 2
KIND_CONTROL: Final = 3
KIND_NAMES: Final[dict[int, str]] = {
    KIND_DATA: "data",
    KIND_STATUS: "status",
    KIND_REPLY: "reply",
    KIND_CONTROL: "control",
}

# Control opcodes.
OP_START: Final = 1
OP_STOP: Final = 2
OP_SET_RATE: Final = 3
OP_TARE: Final = 4
OP_TIME_SYNC: Final = 5
OP_RESEND: Final = 6
OP_IDENTIFY: Final = 7
OP_GET_STATUS: Final = 8
OP_SET_PADS: Final = 9
OP_SET_NAME: Final = 10
OP_SET_CAL: Final = 11
OP_GET_CAL: Final = 12
OP_SET_OVERSAMPLE: Final = 13
OP_FORGET_BONDS: Final = 14  # the insole drops every bonded central (after its reply)

# Reply results.
RESULT_OK: Final = 0
RESULT_BAD_CRC: Final = 1
RESULT_BAD_VERSION: Final = 2
RESULT_UNKNOWN_OPCODE: Final = 3
RESULT_BAD_LENGTH: Final = 4
RESULT_OUT_OF_RANGE: Final = 5
RESULT_NOT_HELD: Final = 6
RESULT_STORAGE_ERROR: Final = 7

# Status pages.
PAGE_IDENTITY: Final = 0
PAGE_CLOCK: Final = 1
PAGE_COUNTERS: Final = 2
PAGE_TIMING: Final = 3
PAGE_TARE: Final = 4
STATUS_PAGES: Final = 5

# Why the insole's previous boot ended (page 3 `reset_reason`, `reset_error`): the firmware's
# supervisor (firmware/supervisor.py) records a task that raised, and the watchdog reset of a
# task that stopped making progress.
RESET_NONE: Final = 0
RESET_WATCHDOG: Final = 1
RESET_TASK: Final = 2  # + the index of the task in FIRMWARE_TASKS
FIRMWARE_TASKS: Final = ("sampler", "sender", "status", "control")
RESET_ERRORS: Final = (
    "", "OSError", "TypeError", "ValueError", "MemoryError", "IndexError", "KeyError",
    "AttributeError", "ZeroDivisionError", "RuntimeError",
)  # fmt: skip
RESET_ERROR_OTHER: Final = 15

# Status flags (page 0).
FLAG_STREAMING: Final = 1
FLAG_CONNECTED: Final = 2
FLAG_CONFIG_LOADED: Final = 4
FLAG_IDLE: Final = 8  # no host for a while: not sampling, pad supply off, deep sleep follows
FLAG_WOKE: Final = 16  # this boot was started by the wake button, from deep sleep
FLAG_PAIRING_OPEN: Final = 32  # a new central may pair now (no bond yet, or the button)
FLAG_BONDED: Final = 64  # the insole holds at least one bonded central

# Sizes and periods.
HEADER_BYTES: Final = 5
CRC_BYTES: Final = 2
MAX_FRAME_BYTES: Final = 244
MIN_FRAME_BYTES: Final = HEADER_BYTES + CRC_BYTES
DATA_OVERHEAD_BYTES: Final = 11
DATA_SAMPLES_OFFSET: Final = 9
MAX_FRAME_SPAN_MS: Final = 250
STATUS_PERIOD_MS: Final = 1000
DEFAULT_MTU: Final = 23
MAX_MTU: Final = MAX_FRAME_BYTES + 3
ATT_OVERHEAD_BYTES: Final = 3

# Ranges.
RATE_MIN_HZ: Final = 25
RATE_MAX_HZ: Final = 200
RATE_DEFAULT_HZ: Final = 100
OVERSAMPLE_MAX: Final = 16
IDENTIFY_MAX_S: Final = 30
NAME_MAX_BYTES: Final = 11
MAX_VALUE: Final = 4095
PAD_COUNT: Final = 6
ALL_PADS_MASK: Final = 0x3F

# Wrap periods of the counters on the wire.
SEQ_MODULO: Final = 1 << 16
T_FIRST_MODULO: Final = 1 << 24
DEVICE_CLOCK_MODULO: Final = 1 << 32

# BLE: the custom service and its characteristics.
SERVICE_UUID: Final = "89860001-e81f-4e88-a7c2-5607755b9b8a"
DATA_UUID: Final = "89860002-e81f-4e88-a7c2-5607755b9b8a"
CONTROL_UUID: Final = "89860003-e81f-4e88-a7c2-5607755b9b8a"
STATUS_UUID: Final = "89860004-e81f-4e88-a7c2-5607755b9b8a"

OPCODE_NAMES: Final[dict[int, str]] = {
    value: name.removeprefix("OP_")
    for name, value in dict(globals()).items()
    if name.startswith("OP_") and isinstance(value, int)
}
RESULT_NAMES: Final[dict[int, str]] = {
    value: name.removeprefix("RESULT_")
    for name, value in dict(globals()).items()
    if name.startswith("RESULT_") and isinstance(value, int)
}
