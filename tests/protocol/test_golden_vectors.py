"""Golden vectors: the firmware's encoder, run under the real MicroPython unix port, and the
host's codec in CPython agree byte for byte, in both directions.

- insole -> host: tests/firmware/golden_vectors_mpy.py prints frames with their fields; the host
  decodes each to those fields and encodes those fields to the same bytes.
- host -> insole: control frames built by the host are parsed by the firmware's control parser.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from mpy_runner import ROOT, run_micropython

from numbguard.protocol import (
    DataFrame,
    Reply,
    StatusFrame,
    decode_frame,
    encode_frame,
    frame_fields,
    make_control,
)
from numbguard.protocol.constants import (
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
    RESULT_OK,
)
from numbguard.protocol.control import pack_reply_data
from numbguard.protocol.frames import STATUS_PAGE_CLASSES
from numbguard.protocol.packing import sets_per_frame

VECTORS_SCRIPT = ROOT / "tests" / "firmware" / "golden_vectors_mpy.py"


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    lines = run_micropython(VECTORS_SCRIPT.read_text(), tmp_path_factory.mktemp("golden"))
    return [json.loads(line) for line in lines]


def test_vectors_cover_every_insole_kind_and_page(vectors: list[dict[str, Any]]) -> None:
    assert len(vectors) >= 20
    assert {v["kind"] for v in vectors} == {"data", "status", "reply"}
    assert {v["fields"]["page"] for v in vectors if v["kind"] == "status"} == set(range(5))


def test_host_decodes_every_firmware_frame_to_its_fields(vectors: list[dict[str, Any]]) -> None:
    for vector in vectors:
        raw = bytes.fromhex(vector["hex"])
        frame = decode_frame(raw)
        fields = dict(vector["fields"])
        if vector["kind"] == "reply":
            assert isinstance(frame, Reply), vector["name"]
            assert frame.seq == fields.pop("request_id")
            # Reply data by name, packed back, is the firmware's data.
            assert pack_reply_data(frame.opcode, frame.data).hex() == fields.pop("data_hex")
        decoded = frame_fields(frame)
        mismatched = {k: (v, decoded.get(k)) for k, v in fields.items() if decoded.get(k) != v}
        assert not mismatched, (vector["name"], mismatched)


def test_host_encodes_the_same_fields_to_the_same_bytes(vectors: list[dict[str, Any]]) -> None:
    for vector in vectors:
        raw = bytes.fromhex(vector["hex"])
        fields = dict(vector["fields"])
        header = {k: v for k, v in frame_fields(decode_frame(raw)).items()
                  if k in ("foot", "insole_tag", "seq", "pad_mask")}  # fmt: skip
        built: DataFrame | StatusFrame | Reply
        if vector["kind"] == "data":
            built = DataFrame(**fields)
        elif vector["kind"] == "status":
            cls = STATUS_PAGE_CLASSES[fields.pop("page")]
            if "tare_offsets" in fields:
                fields["tare_offsets"] = tuple(fields["tare_offsets"])
            built = cls(**header, **fields)
        else:
            decoded = decode_frame(raw)
            assert isinstance(decoded, Reply)
            built = Reply(foot=header["foot"], insole_tag=header["insole_tag"],
                          pad_mask=header["pad_mask"], seq=fields["request_id"],
                          opcode=fields["opcode"], result=fields["result"],
                          data=decoded.data)  # fmt: skip
        assert encode_frame(built).hex() == vector["hex"], vector["name"]


# Host-built control frames, with their argument bytes as docs/protocol.md lays them out.
CONTROL_CASES: list[tuple[int, dict[str, Any], bytes]] = [
    (OP_START, {}, b""),
    (OP_STOP, {}, b""),
    (OP_SET_RATE, {"rate_hz": 200}, bytes([200])),
    (OP_TARE, {"pad_mask": 0}, bytes([0])),
    (OP_TIME_SYNC, {"host_token": 0xCAFEF00D}, struct.pack("<I", 0xCAFEF00D)),
    (OP_RESEND, {"first_seq": 65530, "last_seq": 4}, struct.pack("<HH", 65530, 4)),
    (OP_IDENTIFY, {"seconds": 30}, bytes([30])),
    (OP_GET_STATUS, {}, b""),
    (OP_SET_PADS, {"pad_mask": 0x1E}, bytes([0x1E])),
    (OP_SET_NAME, {"name": "NGR-00ff"}, b"NGR-00ff"),
    (OP_SET_CAL, {"pad_bit": 5, "gain": 1.5, "exponent": 0.75}, struct.pack("<Bff", 5, 1.5, 0.75)),
    (OP_GET_CAL, {"pad_bit": 2}, bytes([2])),
    (OP_SET_OVERSAMPLE, {"oversample": 16}, bytes([16])),
    (OP_FORGET_BONDS, {}, b""),
]

PARSE_SCRIPT = """
import json, protocol as p
for line in FRAMES:
    frame = bytes.fromhex(line)
    result, opcode, request_id, args = p.parse_control(frame)
    print(json.dumps([result, opcode, request_id, bytes(args).hex() if args else ""]))
"""


def test_firmware_parses_every_host_control_frame(tmp_path: Path) -> None:
    frames = [
        encode_frame(make_control(opcode, 1000 + i, foot="right", insole_tag=0x43, **args))
        for i, (opcode, args, _) in enumerate(CONTROL_CASES)
    ]
    script = f"FRAMES = {[f.hex() for f in frames]!r}\n{PARSE_SCRIPT}"
    parsed = [json.loads(line) for line in run_micropython(script, tmp_path)]
    assert len(parsed) == len(CONTROL_CASES)
    for i, ((opcode, _, arg_bytes), got) in enumerate(zip(CONTROL_CASES, parsed, strict=True)):
        assert got == [RESULT_OK, opcode, 1000 + i, arg_bytes.hex()], opcode


SIZING_SCRIPT = """
import json, packer
print(json.dumps([packer.sets_per_frame(m, n, r) for m, n, r in CASES]))
"""


def test_frame_sizing_rule_matches_the_firmware_packer(tmp_path: Path) -> None:
    cases = [(mtu, n_pads, rate) for mtu in (23, 27, 64, 100, 185, 247, 517)
             for n_pads in range(1, 7) for rate in (25, 50, 100, 150, 200)]  # fmt: skip
    script = f"CASES = {cases!r}\n{SIZING_SCRIPT}"
    (line,) = run_micropython(script, tmp_path)
    assert json.loads(line) == [sets_per_frame(*case) for case in cases]
