"""An insole on a serial line: the CPython emulator speaking COBS frames on stdin/stdout.

Run as ``python -m numbguard_lab.serial_insole --foot left --insole-id 0x1234ABCD`` with stdin
and stdout on one end of a pty (see `pty_peer`); the host opens the other end with pyserial,
as it would a USB serial port.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import time
from typing import Final

from numbguard.protocol.cobs import DELIMITER, encode_serial
from numbguard.protocol.constants import MAX_FRAME_BYTES, RATE_DEFAULT_HZ
from numbguard.protocol.decoder import SerialFrameDecoder
from numbguard.transports.emulated_insole import InsoleEmulator

TICK_S: Final = 0.005


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--foot", choices=("left", "right"), default="left")
    parser.add_argument("--insole-id", type=lambda text: int(text, 0), default=0x1234ABCD)
    parser.add_argument("--rate-hz", type=int, default=RATE_DEFAULT_HZ)
    parser.add_argument("--duration-s", type=float, default=3.0,
                        help="stream this long, then exit (the host sees the line go away)")
    parser.add_argument("--max-frame-bytes", type=int, default=MAX_FRAME_BYTES,
                        help="frame size cap (20 packs one sample set a frame, as at MTU 23)")
    parser.add_argument("--drop-first", type=int, action="append", default=[],
                        metavar="OPCODE",
                        help="ignore the first control frame with this opcode, as if lost on "
                             "the line (repeatable)")
    return parser


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def run(args: argparse.Namespace) -> int:
    emulator = InsoleEmulator(foot=args.foot, insole_id=args.insole_id, rate_hz=args.rate_hz)
    emulator.host_connected = True
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    decoder = SerialFrameDecoder()
    to_drop = list(args.drop_first)
    start_s = time.monotonic()
    # A leading delimiter ends whatever a previous user left half-written on the line.
    _write_all(fd_out, DELIMITER)
    while (now_s := time.monotonic()) - start_s < args.duration_s:
        out = emulator.poll(now_s, args.max_frame_bytes)
        readable, _, _ = select.select([fd_in], [], [], TICK_S)
        if readable:
            chunk = os.read(fd_in, 4096)
            if not chunk:
                break  # the host hung up
            for decoded in decoder.feed_raw(chunk):
                opcode = decoded.raw[5] if len(decoded.raw) > 5 else -1
                if opcode in to_drop:
                    to_drop.remove(opcode)
                    continue
                out += emulator.handle_control(decoded.raw, time.monotonic())
        for item in out:
            _write_all(fd_out, encode_serial(item.frame))
    return 0


def main() -> int:
    return run(build_parser().parse_args())


if __name__ == "__main__":
    sys.exit(main())
