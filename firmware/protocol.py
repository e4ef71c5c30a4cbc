# numbguard wire protocol, version 1: constants, CRC, encoders and the control parser.
#
# The byte layout is defined in docs/protocol.md; names here match the names there. Encoders
# write with struct.pack_into into buffers the caller preallocated, so the sampling path can
# build frames without touching the heap. The control parser never raises: bad input becomes
# a result code for the reply.
import struct
from array import array

try:
    from micropython import const
except ImportError:  # CPython, for tools that read the constants

    def const(value):
        return value


PROTOCOL_VERSION = const(1)

# Frame kinds (bits 7-6 of byte 1).
KIND_DATA = const(0)
KIND_STATUS = const(1)
KIND_REPLY = const(2)
KIND_CONTROL = const(3)

# Control opcodes.
OP_START = const(1)
OP_STOP = const(2)
OP_SET_RATE = const(3)
OP_TARE = const(4)
OP_TIME_SYNC = const(5)
OP_RESEND = const(6)
OP_IDENTIFY = const(7)
OP_GET_STATUS = const(8)
OP_SET_PADS = const(9)
OP_SET_NAME = const(10)
OP_SET_CAL = const(11)
OP_GET_CAL = const(12)
OP_SET_OVERSAMPLE = const(13)
OP_FORGET_BONDS = const(14)
OP_LAST = const(14)

# Reply results.
RESULT_OK = const(0)
RESULT_BAD_CRC = const(1)
RESULT_BAD_VERSION = const(2)
RESULT_UNKNOWN_OPCODE = const(3)
RESULT_BAD_LENGTH = const(4)
RESULT_OUT_OF_RANGE = const(5)
RESULT_NOT_HELD = const(6)
RESULT_STORAGE_ERROR = const(7)

# Sizes and periods.
HEADER_BYTES = const(5)
CRC_BYTES = const(2)
MAX_FRAME_BYTES = const(244)
DATA_OVERHEAD_BYTES = const(11)
DATA_SAMPLES_OFFSET = const(9)
MAX_FRAME_SPAN_MS = const(250)
STATUS_PERIOD_MS = const(1000)
STATUS_PAGES = const(5)
DEFAULT_MTU = const(23)
ATT_OVERHEAD_BYTES = const(3)

# Ranges of control arguments.
RATE_MIN_HZ = const(25)
RATE_MAX_HZ = const(200)
RATE_DEFAULT_HZ = const(100)
OVERSAMPLE_MAX = const(16)
IDENTIFY_MAX_S = const(30)
NAME_MAX_BYTES = const(11)
MAX_VALUE = const(4095)

FOOT_LEFT = const(0)
FOOT_RIGHT = const(1)

# Pads in pad-bit order (bit i of the pad mask, and the order of values in a sample set).
PAD_IDS = ("heel", "ball_medial", "ball_center", "ball_lateral", "lace_lower", "lace_upper")
PAD_COUNT = const(6)
ALL_PADS_MASK = const(0x3F)
# Number of pads present for each pad mask.
PAD_COUNT_OF = bytes([(m & 1) + (m >> 1 & 1) + (m >> 2 & 1) + (m >> 3 & 1) + (m >> 4 & 1) +
                      (m >> 5 & 1) for m in range(64)])

# BLE: the custom service and its characteristics.
SERVICE_UUID = "89860001-e81f-4e88-a7c2-5607755b9b8a"
DATA_UUID = "89860002-e81f-4e88-a7c2-5607755b9b8a"
CONTROL_UUID = "89860003-e81f-4e88-a7c2-5607755b9b8a"
STATUS_UUID = "89860004-e81f-4e88-a7c2-5607755b9b8a"

# Status page numbers.
PAGE_IDENTITY = const(0)
PAGE_CLOCK = const(1)
PAGE_COUNTERS = const(2)
PAGE_TIMING = const(3)
PAGE_TARE = const(4)

# Status flags (page 0).
FLAG_STREAMING = const(1)
FLAG_CONNECTED = const(2)
FLAG_CONFIG_LOADED = const(4)

# Argument byte counts per opcode (index = opcode); 255 marks an unknown opcode.
_ARGS_MIN = b"\xff\x00\x00\x01\x01\x04\x04\x01\x00\x01\x01\x09\x01\x01\x00"
_ARGS_MAX = b"\xff\x00\x00\x01\x01\x04\x04\x01\x00\x01\x0b\x09\x01\x01\x00"


def _crc_table():
    table = array("H", bytes(512))
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


_CRC_TABLE = _crc_table()


def crc16(buf, start, end):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection) of buf[start:end]."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for i in range(start, end):
        crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ buf[i]]
    return crc


def foot_tag(foot, insole_id):
    """Byte 2 of the header: the foot in bit 7, the low 7 bits of the insole id below."""
    return ((foot & 1) << 7) | (insole_id & 0x7F)


def put_header(buf, kind, pad_mask, tag, seq):
    struct.pack_into("<BBBH", buf, 0, PROTOCOL_VERSION, (kind << 6) | (pad_mask & 0x3F), tag,
                     seq & 0xFFFF)


def finish(buf, body_end):
    """Write the CRC after buf[0:body_end]; return the frame length."""
    struct.pack_into("<H", buf, body_end, crc16(buf, 0, body_end))
    return body_end + CRC_BYTES


def packed_bytes(n_values):
    """Bytes that n 12-bit values take on the wire."""
    return (3 * n_values + 1) // 2


def put12(buf, base, index, value):
    """Write value number `index` (0-4095) of a packed 12-bit run that starts at buf[base].

    Values are written in order: an even index also clears the nibble its odd partner fills.
    """
    pos = base + 3 * (index >> 1)
    if index & 1:
        buf[pos + 1] = (buf[pos + 1] & 0x0F) | ((value & 0x0F) << 4)
        buf[pos + 2] = (value >> 4) & 0xFF
    else:
        buf[pos] = value & 0xFF
        buf[pos + 1] = (value >> 8) & 0x0F


def get12(buf, base, index):
    """Read value number `index` of a packed 12-bit run that starts at buf[base]."""
    pos = base + 3 * (index >> 1)
    if index & 1:
        return (buf[pos + 1] >> 4) | (buf[pos + 2] << 4)
    return buf[pos] | ((buf[pos + 1] & 0x0F) << 8)


def put_data_head(buf, pad_mask, tag, seq, t_first_us, rate_hz):
    """Header, 24-bit t_first_us and rate of a data frame; samples follow at offset 9."""
    put_header(buf, KIND_DATA, pad_mask, tag, seq)
    struct.pack_into("<HBB", buf, 5, t_first_us & 0xFFFF, (t_first_us >> 16) & 0xFF, rate_hz)


def finish_data(buf, n_values):
    """Close a data frame holding n_values packed samples; return its length."""
    return finish(buf, DATA_SAMPLES_OFFSET + packed_bytes(n_values))


def encode_data(buf, pad_mask, tag, seq, t_first_us, rate_hz, values, n_values):
    """A whole data frame from values[0:n_values]; return its length."""
    put_data_head(buf, pad_mask, tag, seq, t_first_us, rate_hz)
    for i in range(n_values):
        put12(buf, DATA_SAMPLES_OFFSET, i, values[i])
    return finish_data(buf, n_values)


def _status_head(buf, pad_mask, tag, counter, page):
    put_header(buf, KIND_STATUS, pad_mask, tag, counter)
    buf[HEADER_BYTES] = page


def encode_status_identity(buf, pad_mask, tag, counter, insole_id, boot_id, fw_major,
                           fw_minor, fw_patch, rate_hz, flags):
    _status_head(buf, pad_mask, tag, counter, PAGE_IDENTITY)
    struct.pack_into("<IHBBBBB", buf, 6, insole_id, boot_id, fw_major, fw_minor, fw_patch,
                     rate_hz, flags)
    return finish(buf, 17)


def encode_status_clock(buf, pad_mask, tag, counter, device_time_us, battery_mv, battery_pct,
                        last_data_seq, oversample):
    _status_head(buf, pad_mask, tag, counter, PAGE_CLOCK)
    struct.pack_into("<IHBHB", buf, 6, device_time_us & 0xFFFFFFFF, battery_mv, battery_pct,
                     last_data_seq & 0xFFFF, oversample)
    return finish(buf, 16)


def encode_status_counters(buf, pad_mask, tag, counter, frames_sent, frames_resent,
                           frames_dropped, notify_retries, ring_frames, ring_span_ds):
    _status_head(buf, pad_mask, tag, counter, PAGE_COUNTERS)
    struct.pack_into("<HHHHHH", buf, 6, frames_sent & 0xFFFF, frames_resent & 0xFFFF,
                     frames_dropped & 0xFFFF, notify_retries & 0xFFFF, ring_frames & 0xFFFF,
                     min(ring_span_ds, 0xFFFF))
    return finish(buf, 18)


def encode_status_timing(buf, pad_mask, tag, counter, jitter_mean_us, jitter_max_us,
                         late_samples, fault_open_mask, fault_short_mask, reset_reason=0,
                         reset_error=0):
    _status_head(buf, pad_mask, tag, counter, PAGE_TIMING)
    struct.pack_into("<HHHBBBB", buf, 6, min(jitter_mean_us, 0xFFFF),
                     min(jitter_max_us, 0xFFFF), late_samples & 0xFFFF, fault_open_mask,
                     fault_short_mask, reset_reason, reset_error)
    return finish(buf, 16)


def encode_status_tare(buf, pad_mask, tag, counter, tare_offsets):
    """Page 4: six 12-bit tare offsets (pad-bit order), zero for absent pads."""
    _status_head(buf, pad_mask, tag, counter, PAGE_TARE)
    for i in range(PAD_COUNT):
        put12(buf, 6, i, tare_offsets[i] if pad_mask >> i & 1 else 0)
    return finish(buf, 6 + packed_bytes(PAD_COUNT))


def encode_reply(buf, pad_mask, tag, request_id, opcode, result, data=None, data_len=0):
    """A reply frame echoing opcode with result and data[0:data_len]; return its length."""
    put_header(buf, KIND_REPLY, pad_mask, tag, request_id)
    buf[5] = opcode & 0xFF
    buf[6] = result
    for i in range(data_len):
        buf[7 + i] = data[i]
    return finish(buf, 7 + data_len)


def encode_control(buf, tag, request_id, opcode, args=b""):
    """A control frame (host -> insole), used by tests and tools; return its length."""
    put_header(buf, KIND_CONTROL, 0, tag, request_id)
    buf[5] = opcode
    for i in range(len(args)):
        buf[6 + i] = args[i]
    return finish(buf, 6 + len(args))


def parse_control(frame, length=-1):
    """Check a control frame; return (result, opcode, request_id, args).

    result is a RESULT_* code for the reply, or None when the frame is too short or not a
    control frame, so there is no request id to answer. args is a memoryview of the argument
    bytes (valid while frame is). Never raises.
    """
    if length < 0:
        length = len(frame)
    if length < HEADER_BYTES + CRC_BYTES or length > MAX_FRAME_BYTES:
        return None, 0, 0, None
    request_id = frame[3] | (frame[4] << 8)
    body_end = length - CRC_BYTES
    opcode = frame[HEADER_BYTES] if body_end > HEADER_BYTES else 0
    if crc16(frame, 0, body_end) != frame[body_end] | (frame[body_end + 1] << 8):
        return RESULT_BAD_CRC, opcode, request_id, None
    if frame[0] != PROTOCOL_VERSION:
        return RESULT_BAD_VERSION, opcode, request_id, None
    if frame[1] >> 6 != KIND_CONTROL:
        return None, opcode, request_id, None
    if body_end == HEADER_BYTES:
        return RESULT_BAD_LENGTH, 0, request_id, None
    if opcode > OP_LAST or _ARGS_MIN[opcode] == 0xFF:
        return RESULT_UNKNOWN_OPCODE, opcode, request_id, None
    n_args = body_end - HEADER_BYTES - 1
    if n_args < _ARGS_MIN[opcode] or n_args > _ARGS_MAX[opcode]:
        return RESULT_BAD_LENGTH, opcode, request_id, None
    return RESULT_OK, opcode, request_id, memoryview(frame)[HEADER_BYTES + 1:body_end]
