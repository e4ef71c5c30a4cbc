"""The golden-vector script runs under MicroPython and prints what it says it prints: frames
whose bytes agree with their fields by an independent CPython reading of docs/protocol.md."""

from __future__ import annotations

import json
from pathlib import Path

from fw_harness import MicroPython
from fw_reference import check_crc, decode_data

SCRIPT = Path(__file__).resolve().parent / "golden_vectors_mpy.py"


def test_golden_vectors_are_well_formed_and_agree_with_their_fields(mpy: MicroPython) -> None:
    lines = mpy.run(SCRIPT.read_text()).splitlines()
    vectors = [json.loads(line) for line in lines]
    assert len({v["name"] for v in vectors}) == len(vectors) >= 20
    kinds = {"data": 0, "status": 1, "reply": 2}
    for vector in vectors:
        assert set(vector) == {"name", "kind", "fields", "hex"}
        frame = bytes.fromhex(vector["hex"])
        assert check_crc(frame) and frame[0] == 1, vector["name"]
        assert frame[1] >> 6 == kinds[vector["kind"]], vector["name"]
        fields = vector["fields"]
        if vector["kind"] == "data":
            decoded = decode_data(frame)
            del decoded["kind"]
            assert decoded == fields, vector["name"]
        elif vector["kind"] == "status":
            assert frame[5] == fields["page"] and len(frame) <= 20
        else:
            assert int.from_bytes(frame[3:5], "little") == fields["request_id"]
            assert (frame[5], frame[6]) == (fields["opcode"], fields["result"])
            assert frame[7:-2].hex() == fields["data_hex"]
    assert {v["fields"]["page"] for v in vectors if v["kind"] == "status"} == {0, 1, 2, 3, 4}
