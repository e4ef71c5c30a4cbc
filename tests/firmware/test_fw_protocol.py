"""firmware/protocol.py under MicroPython: CRC, 12-bit packing, encoders, control parser."""

from __future__ import annotations

import random

from fw_harness import MicroPython
from fw_reference import check_crc, control_frame, crc16_ccitt_false, decode_data, pack12


def test_crc_matches_reference_and_check_value(mpy: MicroPython) -> None:
    rng = random.Random(2)
    blobs = [b"123456789", b"", b"\x00", bytes(range(256))]
    blobs += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))) for _ in range(20)]
    got = mpy.json(f"""
        import json, protocol as p
        out = []
        for blob in {blobs!r}:
            out.append(p.crc16(blob, 0, len(blob)))
        print(json.dumps(out))
    """)
    assert got[0] == 0x29B1  # the CRC-16/CCITT-FALSE check value
    assert got == [crc16_ccitt_false(b) for b in blobs]


def test_data_frames_match_reference_packing(mpy: MicroPython) -> None:
    rng = random.Random(3)
    cases = []
    for pad_mask in (0x3F, 0x01, 0x1E, 0x07, 0x35):
        n_pads = bin(pad_mask).count("1")
        for n_sets in (1, 2, 3, 7):
            values = [rng.randrange(4096) for _ in range(n_pads * n_sets)]
            values[0] = 4095
            cases.append((pad_mask, rng.randrange(128), rng.randrange(65536),
                          rng.choice((0, 0xFFFFFF, 0xFFFFF0, 1 << 29)), rng.choice((25, 100, 200)),
                          values))
    frames = mpy.json(f"""
        import json, protocol as p
        buf = bytearray(p.MAX_FRAME_BYTES)
        out = []
        for mask, tag, seq, t, rate, values in {cases!r}:
            tag = p.foot_tag(tag & 1, tag)
            n = p.encode_data(buf, mask, tag, seq, t, rate, values, len(values))
            out.append(bytes(buf[:n]).hex())
        print(json.dumps(out))
    """)
    for (pad_mask, tag, seq, t_us, rate_hz, values), hex_frame in zip(cases, frames, strict=True):
        frame = bytes.fromhex(hex_frame)
        assert check_crc(frame)
        assert frame[9:-2] == pack12(values)
        assert len(frame) == 11 + (3 * len(values) + 1) // 2
        fields = decode_data(frame)
        assert fields["kind"] == 0 and fields["pad_mask"] == pad_mask
        assert fields["foot"] == ("right" if tag & 1 else "left")
        assert fields["insole_tag"] == tag & 0x7F
        assert fields["seq"] == seq and fields["rate_hz"] == rate_hz
        assert fields["t_first_us"] == t_us & 0xFFFFFF
        assert [v for s in fields["samples"] for v in s] == values  # type: ignore[attr-defined]


def test_status_pages_fit_mtu_23_and_carry_their_fields(mpy: MicroPython) -> None:
    frames = mpy.json("""
        import json, protocol as p
        b = bytearray(p.MAX_FRAME_BYTES)
        out = [
            bytes(b[:p.encode_status_identity(b, 0x3F, 5, 1, 0xC4A1B2C3, 0xBEEF, 1, 2, 3, 100, 7)]),
            bytes(b[:p.encode_status_clock(b, 0x3F, 5, 2, 0xFFFFFFFF, 3900, 66, 65535, 4)]),
            bytes(b[:p.encode_status_counters(b, 0x3F, 5, 3, 1, 2, 3, 4, 5, 70000)]),
            bytes(b[:p.encode_status_timing(b, 0x3F, 5, 4, 12, 99999, 7, 0x01, 0x20)]),
            bytes(b[:p.encode_status_tare(b, 0x3E, 5, 5, [4095, 1, 2, 3, 4, 5])]),
        ]
        print(json.dumps([f.hex() for f in out]))
    """)
    pages = [bytes.fromhex(f) for f in frames]
    for page_number, frame in enumerate(pages):
        assert len(frame) <= 20 and check_crc(frame)
        assert frame[1] >> 6 == 1 and frame[5] == page_number
    assert pages[0][6:17] == bytes.fromhex("c3b2a1c4efbe01020364") + b"\x07"
    assert pages[1][6:16] == bytes.fromhex("ffffffff3c0f42ffff04")
    assert pages[2][16:18] == b"\xff\xff"  # ring span saturates rather than wraps
    assert pages[3][6:14] == bytes.fromhex("0c00ffff07000120")
    assert pages[4][6:15] == pack12([0, 1, 2, 3, 4, 5])  # absent heel reads zero


def test_control_parser_codes_for_good_and_bad_frames(mpy: MicroPython) -> None:
    good = control_frame(0x1234, 6, b"\x01\x00\x05\x00")
    bad_crc = bytearray(good)
    bad_crc[5] ^= 0xFF
    frames = {
        "good": good,
        "bad_crc": bytes(bad_crc),
        "bad_version": control_frame(9, 1, version=2),
        "unknown_opcode": control_frame(10, 99),
        "opcode_zero": control_frame(11, 0),
        "too_long_args": control_frame(12, 1, b"\x00"),
        "too_short_args": control_frame(13, 5, b"\x00\x00"),
        "no_opcode": control_frame(14, 1)[:5] + control_frame(14, 1)[6:6],
        "data_kind": control_frame(15, 1, kind=0),
        "short": b"\x01\x03",
        "empty": b"",
    }
    no_opcode = frames["no_opcode"]
    frames["no_opcode"] = no_opcode + crc16_ccitt_false(no_opcode).to_bytes(2, "little")
    got = mpy.json(f"""
        import json, protocol as p
        out = {{}}
        for name, frame in {frames!r}.items():
            result, opcode, request_id, args = p.parse_control(frame)
            out[name] = [result, opcode, request_id, None if args is None else bytes(args).hex()]
        print(json.dumps(out))
    """)
    assert got["good"] == [0, 6, 0x1234, "01000500"]
    assert got["bad_crc"][0] == 1
    assert got["bad_version"] == [2, 1, 9, None]
    assert got["unknown_opcode"] == [3, 99, 10, None]
    assert got["opcode_zero"][0] == 3
    assert got["too_long_args"] == [4, 1, 12, None]
    assert got["too_short_args"] == [4, 5, 13, None]
    assert got["no_opcode"] == [4, 0, 14, None]
    assert got["data_kind"][0] is None
    assert got["short"][0] is None and got["empty"][0] is None


def test_constants_match_the_protocol_document(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json, protocol as p
        names = [n for n in dir(p) if n.startswith(("KIND_", "OP_", "RESULT_"))]
        out = {n: getattr(p, n) for n in names}
        for n in ("PROTOCOL_VERSION", "MAX_FRAME_BYTES", "DATA_OVERHEAD_BYTES",
                  "MAX_FRAME_SPAN_MS", "STATUS_PERIOD_MS", "SERVICE_UUID", "DATA_UUID",
                  "CONTROL_UUID", "STATUS_UUID"):
            out[n] = getattr(p, n)
        print(json.dumps(out))
    """)
    assert got["PROTOCOL_VERSION"] == 1 and got["MAX_FRAME_BYTES"] == 244
    assert got["DATA_OVERHEAD_BYTES"] == 11 and got["MAX_FRAME_SPAN_MS"] == 250
    assert got["STATUS_PERIOD_MS"] == 1000
    assert [got[f"KIND_{k}"] for k in ("DATA", "STATUS", "REPLY", "CONTROL")] == [0, 1, 2, 3]
    opcodes = ["START", "STOP", "SET_RATE", "TARE", "TIME_SYNC", "RESEND", "IDENTIFY",
               "GET_STATUS", "SET_PADS", "SET_NAME", "SET_CAL", "GET_CAL", "SET_OVERSAMPLE"]
    assert [got[f"OP_{name}"] for name in opcodes] == list(range(1, 14))
    results = "OK BAD_CRC BAD_VERSION UNKNOWN_OPCODE BAD_LENGTH OUT_OF_RANGE NOT_HELD STORAGE_ERROR"
    assert [got[f"RESULT_{name}"] for name in results.split()] == list(range(8))
    assert got["SERVICE_UUID"] == "89860001-e81f-4e88-a7c2-5607755b9b8a"
    for n, name in ((2, "DATA"), (3, "CONTROL"), (4, "STATUS")):
        assert got[f"{name}_UUID"] == f"8986000{n}-e81f-4e88-a7c2-5607755b9b8a"
