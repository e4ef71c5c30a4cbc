"""Plain CPython reference implementations of the wire format, written from docs/protocol.md
alone, to check the firmware's encoders against."""

from __future__ import annotations


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def pack12(values: list[int]) -> bytes:
    out = bytearray()
    for i in range(0, len(values) - 1, 2):
        v0, v1 = values[i], values[i + 1]
        out += bytes((v0 & 0xFF, (v0 >> 8) | ((v1 & 0x0F) << 4), v1 >> 4))
    if len(values) % 2:
        out += bytes((values[-1] & 0xFF, values[-1] >> 8))
    return bytes(out)


def unpack12(data: bytes, count: int) -> list[int]:
    values = []
    for i in range(count):
        pos = 3 * (i // 2)
        if i % 2:
            values.append((data[pos + 1] >> 4) | (data[pos + 2] << 4))
        else:
            values.append(data[pos] | ((data[pos + 1] & 0x0F) << 8))
    return values


def check_crc(frame: bytes) -> bool:
    return crc16_ccitt_false(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def cobs_encode(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out += bytes((len(block) + 1,)) + block
            block = bytearray()
        else:
            block.append(byte)
            if len(block) == 254:
                out += b"\xff" + block
                block = bytearray()
    out += bytes((len(block) + 1,)) + block
    return bytes(out) + b"\x00"


def cobs_decode(packet: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(packet):
        code = packet[i]
        out += packet[i + 1 : i + code]
        i += code
        if code != 0xFF and i < len(packet):
            out.append(0)
    return bytes(out)


def control_frame(request_id: int, opcode: int, args: bytes = b"", *, version: int = 1,
                  kind: int = 3, foot_tag: int = 0) -> bytes:
    body = bytes((version, kind << 6, foot_tag)) + request_id.to_bytes(2, "little")
    body += bytes((opcode,)) + args
    return body + crc16_ccitt_false(body).to_bytes(2, "little")


def decode_data(frame: bytes) -> dict[str, object]:
    """Fields of a data frame (CRC already checked)."""
    pad_mask = frame[1] & 0x3F
    n_pads = bin(pad_mask).count("1")
    sample_bytes = frame[9:-2]
    count = len(sample_bytes) * 2 // 3
    values = unpack12(sample_bytes, count)
    return {
        "kind": frame[1] >> 6,
        "pad_mask": pad_mask,
        "foot": "right" if frame[2] & 0x80 else "left",
        "insole_tag": frame[2] & 0x7F,
        "seq": int.from_bytes(frame[3:5], "little"),
        "t_first_us": int.from_bytes(frame[5:8], "little"),
        "rate_hz": frame[8],
        "samples": [values[i : i + n_pads] for i in range(0, count, n_pads)],
    }
