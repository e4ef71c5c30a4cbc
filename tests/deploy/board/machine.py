# `machine` of the simulated board (tests/deploy/sim_board.py): the firmware tests' simulated
# hardware (ADC traces, pins, watchdog), with a reset that ends MicroPython so the board boots.
import os
import sys

_SIM = os.getenv("NUMBGUARD_SIM_MACHINE")  # set by sim_board.py: the lab's simulated machine

with open(_SIM) as _f:
    exec(_f.read())


def reset():
    sys.exit(1)
