"""MicroPython script fragments shared by the firmware tests."""

# An insole on the simulated board with a scripted clock: `clock[0]` is ticks_us.
INSOLE = """
import json, struct, machine, protocol as p
from board import Board
from config import Config
from insole import Insole
clock = [0]
def ticks():
    return clock[0]
board = Board()
ins = Insole(board.pad_reads, Config("config.json"), board.insole_id(), 0xBEEF, board.battery_mv,
             ticks_us=ticks, ring_bytes=RING_BYTES, selfcheck_window_s=WINDOW_S)
def advance(us):
    clock[0] += us
    ins.tick()
def ctl(op, args=b"", rid=1):
    buf = bytearray(64)
    n = p.encode_control(buf, 0, rid, op, args)
    return [f.hex() for f in ins.control(buf, n)]
"""


def insole(ring_bytes: int = 47104, window_s: int = 30) -> str:
    return INSOLE.replace("RING_BYTES", str(ring_bytes)).replace("WINDOW_S", str(window_s))
