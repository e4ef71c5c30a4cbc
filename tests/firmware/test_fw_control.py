"""Control handling under MicroPython: one reply per control frame, for every opcode and for
bad input, with the effect (or no effect) on the insole."""

from __future__ import annotations

import random
import struct
from typing import Any

from fw_harness import MicroPython
from fw_reference import check_crc, control_frame
from fw_scripts import insole


def reply(hex_frame: str) -> dict[str, Any]:
    frame = bytes.fromhex(hex_frame)
    assert check_crc(frame) and frame[1] >> 6 == 2
    return {"request_id": int.from_bytes(frame[3:5], "little"), "opcode": frame[5],
            "result": frame[6], "data": frame[7:-2]}


def test_every_opcode_gets_one_reply_with_its_effect(mpy: MicroPython) -> None:
    got = mpy.json(insole() + """
machine.set_trace(36, [1000])
machine.set_trace(39, [2000])
r = {}
r["stop"] = ctl(p.OP_STOP, rid=2); r["streaming_after_stop"] = ins.streaming
clock[0] += 20000; r["tick_when_stopped"] = ins.tick()
r["start"] = ctl(p.OP_START, rid=3); r["streaming_after_start"] = ins.streaming
r["set_rate"] = ctl(p.OP_SET_RATE, bytes([50]), rid=4); r["rate"] = ins.sampler.rate_hz
r["tare"] = ctl(p.OP_TARE, bytes([0x03]), rid=5); r["tare_offsets"] = ins.config.tare
clock[0] = 5000000
r["time_sync"] = ctl(p.OP_TIME_SYNC, struct.pack("<I", 0xCAFEF00D), rid=6)
ins.set_link(True, 23)
for i in range(10):
    advance(20000)
r["resend"] = ctl(p.OP_RESEND, struct.pack("<HH", 2, 4), rid=7)
r["identify"] = ctl(p.OP_IDENTIFY, bytes([5]), rid=8); r["identifying"] = ins.identifying()
r["get_status"] = ctl(p.OP_GET_STATUS, rid=9)
r["set_pads"] = ctl(p.OP_SET_PADS, bytes([0x0F]), rid=10); r["pad_mask"] = ins.sampler.pad_mask
r["set_name"] = ctl(p.OP_SET_NAME, b"Trail-L", rid=11); r["name"] = ins.config.name
r["set_cal"] = ctl(p.OP_SET_CAL, struct.pack("<Bff", 1, 2.5, 0.5), rid=12)
r["get_cal"] = ctl(p.OP_GET_CAL, bytes([1]), rid=13)
r["set_oversample"] = ctl(p.OP_SET_OVERSAMPLE, bytes([4]), rid=14)
r["oversample"] = ins.sampler.oversample
r["forget_before"] = ins.forget_bonds
r["forget_bonds"] = ctl(p.OP_FORGET_BONDS, rid=15); r["forget_after"] = ins.forget_bonds
print(json.dumps(r))
""")
    for name, request_id, opcode in (("stop", 2, 2), ("start", 3, 1), ("set_rate", 4, 3),
                                     ("tare", 5, 4), ("time_sync", 6, 5), ("resend", 7, 6),
                                     ("identify", 8, 7), ("get_status", 9, 8), ("set_pads", 10, 9),
                                     ("set_name", 11, 10), ("set_cal", 12, 11), ("get_cal", 13, 12),
                                     ("set_oversample", 14, 13), ("forget_bonds", 15, 14)):
        first = reply(got[name][0])
        assert (first["request_id"], first["opcode"], first["result"]) == (request_id, opcode, 0)
        if name != "get_status":
            assert len(got[name]) == 1, name
    assert got["streaming_after_stop"] is False and got["tick_when_stopped"] is False
    assert got["streaming_after_start"] is True
    assert got["rate"] == 50
    # What the pads read when tared: their levels, give or take the ADC's noise (a few counts).
    tare = got["tare_offsets"]
    assert abs(tare[0] - 1000) <= 6 and abs(tare[1] - 2000) <= 6 and tare[2:] == [0, 0, 0, 0]
    assert reply(got["time_sync"][0])["data"] == struct.pack("<II", 0xCAFEF00D, 5000000)
    assert struct.unpack("<HH", reply(got["resend"][0])["data"]) == (3, 0)
    assert got["identifying"] is True
    status = [bytes.fromhex(f) for f in got["get_status"][1:]]
    assert [f[5] for f in status] == [0, 1, 2, 3, 4] and all(f[1] >> 6 == 1 for f in status)
    assert got["pad_mask"] == 0x0F and got["name"] == "Trail-L"
    assert reply(got["get_cal"][0])["data"] == struct.pack("<Bff", 1, 2.5, 0.5)
    assert got["oversample"] == 4
    # main.py forgets the bonds once this reply has left (tests/lab/test_lab_ble_pairing.py).
    assert got["forget_before"] is False and got["forget_after"] is True


def test_bad_control_frames_get_an_error_reply_and_change_nothing(mpy: MicroPython) -> None:
    bad_crc = bytearray(control_frame(20, 3, bytes([50])))
    bad_crc[-1] ^= 0x55
    frames = {
        "bad_crc": bytes(bad_crc),
        "bad_version": control_frame(21, 3, bytes([50]), version=7),
        "unknown_opcode": control_frame(22, 200),
        "bad_length": control_frame(23, 3, bytes([50, 0])),
        "rate_low": control_frame(24, 3, bytes([24])),
        "rate_high": control_frame(25, 3, bytes([201])),
        "pads_zero": control_frame(26, 9, bytes([0])),
        "pads_high": control_frame(27, 9, bytes([0x40])),
        "oversample": control_frame(28, 13, bytes([17])),
        "identify": control_frame(29, 7, bytes([31])),
        "name": control_frame(30, 10, b"caf\xe9"),
        "name_long": control_frame(31, 10, b"x" * 12),
        "cal_pad": control_frame(32, 11, struct.pack("<Bff", 6, 1.0, 1.0)),
        "cal_gain": control_frame(33, 11, struct.pack("<Bff", 0, -1.0, 1.0)),
        "get_cal_pad": control_frame(34, 12, bytes([9])),
        "tare_absent": control_frame(35, 4, bytes([0x20])),
        "resend_empty": control_frame(36, 6, struct.pack("<HH", 100, 200)),
        "truncated": control_frame(37, 1)[:4],
    }
    got = mpy.json(insole() + f"""
ins.config.set_pad_mask(0x1F)
ins.apply_config()
before = json.dumps(ins.config.values)
r = {{}}
for name, frame in {frames!r}.items():
    r[name] = [f.hex() for f in ins.control(frame)]
r["unchanged"] = before == json.dumps(ins.config.values)
print(json.dumps(r))
""")
    expected = {"bad_crc": 1, "bad_version": 2, "unknown_opcode": 3, "bad_length": 4,
                "rate_low": 5, "rate_high": 5, "pads_zero": 5, "pads_high": 5, "oversample": 5,
                "identify": 5, "name": 5, "name_long": 4, "cal_pad": 5, "cal_gain": 5,
                "get_cal_pad": 5, "tare_absent": 5, "resend_empty": 6}
    for name, result in expected.items():
        assert len(got[name]) == 1, name
        assert reply(got[name][0])["result"] == result, name
        assert reply(got[name][0])["request_id"] == frames[name][3] | frames[name][4] << 8
    assert got["truncated"] == []
    assert got["unchanged"] is True


def test_arbitrary_and_mutated_frames_never_raise_and_get_at_most_one_reply(
        mpy: MicroPython) -> None:
    rng = random.Random(11)
    frames: list[bytes] = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
                           for _ in range(150)]
    valid = [control_frame(rng.randrange(65536), op, bytes(rng.randrange(256) for _ in range(n)))
             for op, n in ((3, 1), (4, 1), (6, 4), (9, 1), (10, 5), (11, 9), (12, 1), (13, 1))]
    for frame in valid * 20:
        mutated = bytearray(frame)
        for _ in range(rng.randrange(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        frames.append(bytes(mutated))
    frames += valid
    got = mpy.json(insole() + f"""
out = []
for frame in {frames!r}:
    out.append([f.hex() for f in ins.control(frame)])
print(json.dumps(out))
""")
    for frame, replies in zip(frames, got, strict=True):
        assert len(replies) <= 1 or bytes.fromhex(replies[0])[5] == 8  # GET_STATUS: + pages
        if replies:
            first = reply(replies[0])
            assert first["request_id"] == int.from_bytes(frame[3:5], "little")
    # Whole frames are understood: done, refused as out of range, or (RESEND) not held.
    assert all(len(r) == 1 and reply(r[0])["result"] in (0, 5, 6) for r in got[-len(valid):])
