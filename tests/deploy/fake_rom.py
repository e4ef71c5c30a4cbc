"""An Espressif ROM bootloader that answers only what esptool asks to tell the chip apart.

Run with stdin and stdout on a pty (`numbguard_lab.pty_peer.PtyPeer`) and point esptool at
the pty with ``--before no-reset`` (a pty has no DTR/RTS to reset through). It speaks SLIP
and answers SYNC and GET_SECURITY_INFO as the ROM of a chip with the given image chip id
would (9 is an ESP32-S3), so esptool's own chip check runs against it. ``--silent`` answers
nothing, as a board that is not in download mode.
"""

from __future__ import annotations

import argparse
import os
import select
import struct
import sys

SLIP_END = 0xC0
SLIP_ESC = 0xDB
OP_SYNC = 0x08
OP_GET_SECURITY_INFO = 0x14
SYNC_REPLIES = 8  # the ROM answers a SYNC eight times
ROM_SYNC_VALUE = 0x12345678  # non-zero: a ROM, not the flasher stub


def slip(packet: bytes) -> bytes:
    body = packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return bytes([SLIP_END]) + body + bytes([SLIP_END])


def unslip(body: bytes) -> bytes:
    return body.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb")


def response(op: int, data: bytes, value: int = 0) -> bytes:
    return slip(struct.pack("<BBHI", 1, op, len(data), value) + data)


def answer(request: bytes, chip_id: int) -> bytes:
    if len(request) < 8 or request[0] != 0:
        return b""
    op = request[1]
    status_ok = b"\x00\x00\x00\x00"
    if op == OP_SYNC:
        return response(op, status_ok, ROM_SYNC_VALUE) * SYNC_REPLIES
    if op == OP_GET_SECURITY_INFO:
        info = struct.pack("<IBBBBBBBBII", 0, 0, 0, 0, 0, 0, 0, 0, 0, chip_id, 0)
        return response(op, info + status_ok)
    return response(op, b"\x01\x05")  # "invalid message": esptool's unsupported command


def serve(chip_id: int, silent: bool) -> int:
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    pending = b""
    while True:
        readable, _, _ = select.select([fd_in], [], [], 1.0)
        if not readable:
            continue
        chunk = os.read(fd_in, 4096)
        if not chunk:
            return 0
        pending += chunk
        *packets, pending = pending.split(bytes([SLIP_END]))
        for body in packets:
            if body and not silent:
                os.write(fd_out, answer(unslip(body), chip_id))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chip-id", type=int, default=9, help="image chip id (9: ESP32-S3)")
    parser.add_argument("--silent", action="store_true", help="answer nothing")
    args = parser.parse_args()
    return serve(args.chip_id, args.silent)


if __name__ == "__main__":
    sys.exit(main())
