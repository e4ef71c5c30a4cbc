# `machine` of the simulated board (tests/deploy/sim_board.py): the firmware tests' simulated
# hardware (ADC traces, pins, watchdog), with a reset that ends MicroPython so the board boots.
import sys

_SIM = __file__.rsplit("/", 3)[0] + "/firmware/sim/machine.py"

with open(_SIM) as _f:
    exec(_f.read())


def reset():
    sys.exit(1)
