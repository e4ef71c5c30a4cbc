"""docs/protocol.md is the contract: its tables must say what the host and the firmware do.

The host's constants are imported; the firmware's (MicroPython) are read with `ast` from
firmware/protocol.py without importing it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from numbguard import pads
from numbguard.protocol import constants
from numbguard.protocol.codec import STATUS_LAYOUTS
from numbguard.protocol.control import CONTROL_ARGS, REPLY_DATA
from numbguard.protocol.frames import STATUS_PAGE_CLASSES

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
FIRMWARE = ROOT / "firmware" / "protocol.py"
TYPE_CODES = {"u8": "B", "u16": "H", "u32": "I", "f32": "f"}
FIELD = re.compile(r"\b(u8|u16|u32|f32) `(\w+)`(?: \((\d+)-(\d+)\))?")


def tables() -> list[list[list[str]]]:
    """Every markdown table of the document: rows of cells, header row first."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*DOC.splitlines(), ""]:
        if line.startswith("|") and not re.fullmatch(r"\|[-| ]+\|", line):
            current.append([cell.strip() for cell in line.strip("|").split("|")])
        elif not line.startswith("|"):
            if current:
                found.append(current)
            current = []
    return found


def table(*header: str) -> list[list[str]]:
    for rows in tables():
        if tuple(rows[0][: len(header)]) == header:
            return rows[1:]
    raise AssertionError(f"docs/protocol.md has no table headed {header}")


def unquote(cell: str) -> str:
    return cell.strip("`")


def firmware_constants(path: Path = FIRMWARE) -> dict[str, Any]:
    """Module-level NAME = const(value) / NAME = literal assignments of a firmware module."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "const":
                value = value.args[0]
            try:
                values[node.targets[0].id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def firmware_status_encoders() -> dict[str, tuple[str, list[str]]]:
    """For each encode_status_* function: its struct format and its field parameters."""
    found: dict[str, tuple[str, list[str]]] = {}
    for node in ast.parse(FIRMWARE.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("encode_status_"):
            params = [a.arg for a in node.args.args]
            fields = params[params.index("counter") + 1 :]
            fmt = ""
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "pack_into":
                    fmt = ast.literal_eval(call.args[0])
            found[node.name.removeprefix("encode_status_")] = (fmt, fields)
    return found


def expand(fmt: str) -> str:
    """'<3HBB' -> 'HHHBB'."""
    return re.sub(r"(\d+)(\w)", lambda m: m[2] * int(m[1]), fmt.lstrip("<"))


FW = firmware_constants()


def test_prose_constants() -> None:
    named = dict(re.findall(r"`([A-Z_]+)` = (\d+)", DOC))
    assert set(named) >= {"PROTOCOL_VERSION", "MAX_FRAME_BYTES", "DATA_OVERHEAD_BYTES",
                          "MAX_FRAME_SPAN_MS", "STATUS_PERIOD_MS"}  # fmt: skip
    for name, value in named.items():
        assert getattr(constants, name) == int(value), name
        assert FW[name] == int(value), name


def test_frame_kinds() -> None:
    rows = table("kind", "value", "direction")
    assert len(rows) == 4
    for name, value, _ in rows:
        assert getattr(constants, unquote(name)) == int(value)
        assert FW[unquote(name)] == int(value)


def test_pads_in_bit_order() -> None:
    rows = table("bit", "pad id")
    doc_pads = tuple(unquote(pad) for _, pad in sorted(rows, key=lambda r: int(r[0])))
    assert doc_pads == pads.PAD_IDS == FW["PAD_IDS"]
    assert len(doc_pads) == constants.PAD_COUNT == FW["PAD_COUNT"]


def test_header_and_data_offsets() -> None:
    header, data = (rows[1:] for rows in tables() if rows[0] == ["offset", "size", "field",
                                                                   "meaning"])  # fmt: skip
    assert sum(int(row[1]) for row in header) == constants.HEADER_BYTES == FW["HEADER_BYTES"]
    by_field = {unquote(field): (offset, size) for offset, size, field, _ in data}
    assert by_field["header"] == ("0", str(constants.HEADER_BYTES))
    assert by_field["t_first_us"] == ("5", "3")  # 24 bits
    assert by_field["rate_hz"] == ("8", "1")
    assert by_field["samples"][0] == str(constants.DATA_SAMPLES_OFFSET)
    assert FW["DATA_SAMPLES_OFFSET"] == constants.DATA_SAMPLES_OFFSET
    assert by_field["crc"][1] == str(constants.CRC_BYTES) == str(FW["CRC_BYTES"])
    assert constants.DATA_SAMPLES_OFFSET + constants.CRC_BYTES == constants.DATA_OVERHEAD_BYTES


def test_opcodes_and_their_arguments() -> None:
    rows = table("opcode", "value", "arguments", "reply data")
    assert len(rows) == len(constants.OPCODE_NAMES)
    for name, value, arguments, reply in rows:
        const = "OP_" + unquote(name)
        assert getattr(constants, const) == int(value) == FW[const], const
        opcode = int(value)
        doc_args = FIELD.findall(arguments)
        if opcode == constants.OP_SET_NAME:
            assert "1-11 bytes" in arguments and constants.NAME_MAX_BYTES == 11
            assert (FW["_ARGS_MIN"][opcode], FW["_ARGS_MAX"][opcode]) == (1, 11)
            continue
        layout = CONTROL_ARGS[opcode]
        assert [n for _, n, _, _ in doc_args] == list(layout.names), const
        assert "".join(TYPE_CODES[t] for t, _, _, _ in doc_args) == layout.fmt, const
        for (_, arg, low, high), bounds in zip(doc_args, layout.ranges, strict=False):
            if low:
                assert bounds == (int(low), int(high)), f"{const} {arg}"
        assert FW["_ARGS_MIN"][opcode] == FW["_ARGS_MAX"][opcode] == layout.size, const
        doc_reply = FIELD.findall(reply)
        if doc_reply:
            data = REPLY_DATA[opcode]
            assert [n for _, n, _, _ in doc_reply] == list(data.names), const
            assert "".join(TYPE_CODES[t] for t, _, _, _ in doc_reply) == data.fmt, const
        else:
            assert opcode not in REPLY_DATA


def test_results() -> None:
    rows = table("result", "value", "meaning")
    assert len(rows) == len(constants.RESULT_NAMES)
    for name, value, _ in rows:
        const = "RESULT_" + unquote(name)
        assert getattr(constants, const) == int(value) == FW[const], const


@pytest.mark.parametrize("page", range(5))
def test_status_pages(page: int) -> None:
    rows = {int(row[0]): row for row in table("page", "name", "body after the page byte")}
    assert len(rows) == constants.STATUS_PAGES == FW["STATUS_PAGES"]
    _, name, body = rows[page]
    cls = STATUS_PAGE_CLASSES[page]
    fw_name = {"identity": "identity", "clock and power": "clock", "counters": "counters",
               "timing and faults": "timing", "tare": "tare"}[name]  # fmt: skip
    assert getattr(constants, "PAGE_" + fw_name.upper()) == page == FW["PAGE_" + fw_name.upper()]
    fw_fmt, fw_fields = firmware_status_encoders()[fw_name]
    if page == constants.PAGE_TARE:
        assert "six 12-bit" in body and fw_fields == ["tare_offsets"]
        return
    doc_fields = FIELD.findall(body)
    fmt, names = STATUS_LAYOUTS[cls]
    assert [n for _, n, _, _ in doc_fields] == list(names) == fw_fields
    doc_fmt = "".join(TYPE_CODES[t] for t, _, _, _ in doc_fields)
    assert doc_fmt == expand(fmt) == expand(fw_fmt)
    # Every page fits one notification at the default MTU.
    assert constants.HEADER_BYTES + 1 + _size(doc_fmt) + constants.CRC_BYTES <= 20


def _size(fmt: str) -> int:
    return sum({"B": 1, "H": 2, "I": 4, "f": 4}[c] for c in fmt)


def test_status_flags() -> None:
    for bit, name in ((0, "STREAMING"), (1, "CONNECTED"), (2, "CONFIG_LOADED")):
        assert f"bit {bit} " in DOC
        assert getattr(constants, "FLAG_" + name) == 1 << bit == FW["FLAG_" + name]
    # The power-state flags are the status module's (firmware/status.py).
    status = firmware_constants(FIRMWARE.parent / "status.py")
    for bit, name, words in ((3, "IDLE", "idle"), (4, "WOKE", "woken from deep sleep")):
        assert f"bit {bit} {words}" in DOC
        assert getattr(constants, "FLAG_" + name) == 1 << bit == status["FLAG_" + name]


def test_ble_uuids() -> None:
    service = re.search(r"Service `([0-9a-f-]{36})`", DOC)
    assert service is not None
    assert constants.SERVICE_UUID == service[1] == FW["SERVICE_UUID"]
    for number, name in ((2, "data"), (3, "control"), (4, "status")):
        assert re.search(rf"\*{name}\*\s+\(`\.\.\.000{number}\.\.\.`", DOC), name
        uuid = service[1].replace("0001", f"000{number}", 1)
        const = name.upper() + "_UUID"
        assert getattr(constants, const) == uuid == FW[const]
