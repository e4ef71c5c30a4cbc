# Golden vectors: frames encoded by the firmware's own encoder (firmware/protocol.py) under the
# MicroPython unix port, one JSON object per line:
#   {"name": ..., "kind": "data"|"status"|"reply", "fields": {...}, "hex": "..."}
# Field names are those of docs/protocol.md. Run:
#   MICROPYPATH=lab/numbguard_lab/micropython:firmware:.frozen \
#       micropython tests/firmware/golden_vectors_mpy.py
#
# The set (fixed; add to the end, never change an entry):
# - data: six pads at MTU 23 (one set); a full MTU-247 frame (25 six-pad sets, 0 and 4095
#   included); one pad at 200 Hz (50 sets, the 250 ms cap); four pads at 25 Hz; odd value
#   counts (3 pads x 3 sets, 3 pads x 1 set, 1 pad x 1 set, 5 pads x 1 set); t_first_us at
#   0xFFFFFF and just before the 24-bit wrap; seq 65535 and insole tag 127; both feet.
# - status: each page 0-4, including full-range counters and a tare page with absent pads.
# - reply: START ok, TIME_SYNC and RESEND with data, GET_CAL with floats, BAD_CRC and
#   UNKNOWN_OPCODE errors, NOT_HELD with data.
import json
import struct

import protocol as p

FEET = ("left", "right")
buf = bytearray(p.MAX_FRAME_BYTES)


def emit(name, kind, fields, n):
    print(json.dumps({"name": name, "kind": kind, "fields": fields,
                      "hex": bytes(buf[:n]).hex()}))


def ramp(count, start, step):
    return [(start + i * step) % 4096 for i in range(count)]


def data(name, pad_mask, foot, insole_tag, seq, t_first_us, rate_hz, values):
    n_pads = p.PAD_COUNT_OF[pad_mask]
    n = p.encode_data(buf, pad_mask, p.foot_tag(foot, insole_tag), seq, t_first_us, rate_hz,
                      values, len(values))
    sets = [values[i:i + n_pads] for i in range(0, len(values), n_pads)]
    emit(name, "data", {"pad_mask": pad_mask, "foot": FEET[foot], "insole_tag": insole_tag & 0x7F,
                        "seq": seq, "t_first_us": t_first_us & 0xFFFFFF, "rate_hz": rate_hz,
                        "samples": sets}, n)


full = ramp(150, 0, 27)
full[0] = 0
full[1] = 4095
full[149] = 4095
data("six_pads_mtu23_one_set", 0x3F, 0, 0x43, 0, 1000, 100, [0, 1, 2048, 4095, 100, 3000])
data("six_pads_mtu247_full", 0x3F, 1, 0x43, 1, 250000, 100, full)
data("heel_only_200hz_span_cap", 0x01, 0, 5, 42, 123456, 200, ramp(50, 7, 81))
data("four_pads_25hz", 0x1E, 1, 5, 7, 999999, 25, ramp(24, 4000, 13))
data("odd_three_pads_three_sets", 0x07, 0, 9, 300, 5000, 100, ramp(9, 1, 455))
data("odd_three_pads_one_set", 0x15, 1, 9, 301, 6000, 100, [4095, 0, 2049])
data("odd_one_value", 0x01, 0, 9, 302, 7000, 50, [3071])
data("odd_five_pads", 0x1F, 1, 9, 303, 8000, 100, [1, 2, 3, 4, 4095])
data("t_first_at_24bit_max", 0x3F, 0, 0x7F, 65535, 0xFFFFFF, 100, ramp(18, 5, 333))
data("t_first_before_wrap", 0x3F, 1, 0x7F, 0, 0xFFFFF0, 200, ramp(12, 4090, 1))
data("device_clock_above_24_bits", 0x3F, 0, 1, 9, 0x3ABCDEF, 100, ramp(6, 10, 10))

identity = {"page": 0, "insole_id": 0xC4A1B2C3, "boot_id": 0xBEEF, "fw_major": 0,
            "fw_minor": 1, "fw_patch": 2, "rate_hz": 100, "flags": 7}
n = p.encode_status_identity(buf, 0x3F, p.foot_tag(0, 0x43), 0, identity["insole_id"],
                             identity["boot_id"], 0, 1, 2, 100, 7)
emit("status_identity", "status", identity, n)

clock = {"page": 1, "device_time_us": 0xFFFFFFF0, "battery_mv": 3912, "battery_pct": 68,
         "last_data_seq": 65535, "oversample": 16}
n = p.encode_status_clock(buf, 0x3F, p.foot_tag(1, 0x43), 1, 0xFFFFFFF0, 3912, 68, 65535, 16)
emit("status_clock", "status", clock, n)

counters = {"page": 2, "frames_sent": 65535, "frames_resent": 12, "frames_dropped": 3,
            "notify_retries": 400, "ring_frames": 3140, "ring_span_ds": 314}
n = p.encode_status_counters(buf, 0x3F, p.foot_tag(0, 0x43), 2, 65535, 12, 3, 400, 3140, 314)
emit("status_counters", "status", counters, n)

timing = {"page": 3, "jitter_mean_us": 850, "jitter_max_us": 12000, "late_samples": 4,
          "fault_open_mask": 0x21, "fault_short_mask": 0x02}
n = p.encode_status_timing(buf, 0x3F, p.foot_tag(0, 0x43), 3, 850, 12000, 4, 0x21, 0x02)
emit("status_timing", "status", timing, n)

n = p.encode_status_tare(buf, 0x3F, p.foot_tag(0, 0x43), 4, [12, 0, 4095, 300, 7, 2048])
emit("status_tare", "status", {"page": 4, "tare_offsets": [12, 0, 4095, 300, 7, 2048]}, n)
n = p.encode_status_tare(buf, 0x1E, p.foot_tag(1, 0x43), 5, [12, 40, 50, 60, 70, 80])
emit("status_tare_absent_pads", "status", {"page": 4, "tare_offsets": [0, 40, 50, 60, 70, 0]}, n)


def reply(name, request_id, opcode, result, data_bytes):
    n = p.encode_reply(buf, 0x3F, p.foot_tag(0, 0x43), request_id, opcode, result, data_bytes,
                       len(data_bytes))
    emit(name, "reply", {"request_id": request_id, "opcode": opcode, "result": result,
                         "data_hex": data_bytes.hex()}, n)


reply("reply_start_ok", 1, p.OP_START, p.RESULT_OK, b"")
reply("reply_time_sync", 2, p.OP_TIME_SYNC, p.RESULT_OK, struct.pack("<II", 0xCAFEF00D, 5000000))
reply("reply_resend", 65535, p.OP_RESEND, p.RESULT_OK, struct.pack("<HH", 25, 65530))
reply("reply_resend_not_held", 3, p.OP_RESEND, p.RESULT_NOT_HELD, struct.pack("<HH", 0, 100))
reply("reply_get_cal", 4, p.OP_GET_CAL, p.RESULT_OK, struct.pack("<Bff", 2, 1.5, 0.75))
reply("reply_bad_crc", 5, p.OP_SET_RATE, p.RESULT_BAD_CRC, b"")
reply("reply_unknown_opcode", 6, 200, p.RESULT_UNKNOWN_OPCODE, b"")
