# Supervision of the firmware's long-lived tasks, so no insole is left half alive.
#
# - `run(index, coro)` runs one task. If it raises, the reason (which task, which exception) is
#   written to flash and the chip resets: a sampler that died would otherwise leave an insole
#   that advertises and answers control but never streams again.
# - `beat(index)` is each task's sign of progress. `watch()` feeds the watchdog only when every
#   task has beaten since the last feed, so a task that hangs (awaits for ever, or spins
#   between awaits) stops the feeding and the watchdog resets the chip.
# - After the next boot `reason` and `error` say why the previous one ended (status page 3).
#   The text of a task failure stays on flash in last_reset.txt, readable with mpremote.
import asyncio
import os

import machine
from micropython import const

REASON_NONE = const(0)  # power-on, a reset button, or deep sleep: nothing went wrong
REASON_WATCHDOG = const(1)  # the watchdog fired: some task stopped making progress
REASON_TASK = const(2)  # 2 + task index: that task raised

# Exception classes, by their code in status page 3 (`reset_error`); others are 15.
ERRORS = ("", "OSError", "TypeError", "ValueError", "MemoryError", "IndexError", "KeyError",
          "AttributeError", "ZeroDivisionError", "RuntimeError")
ERROR_OTHER = const(15)

PENDING_FILE = "reset.txt"  # written by a failing task, read at the next boot
LAST_FILE = "last_reset.txt"  # what the last failure was, kept for reading over USB
_TEXT_MAX = const(96)
CHECK_MS = const(2000)  # longer than any task's slowest loop (status: one page a second)


def error_code(error):
    name = type(error).__name__
    for code, known in enumerate(ERRORS):
        if code and known == name:
            return code
    return ERROR_OTHER


class Supervisor:
    def __init__(self, names, board, reset_cause=None):
        self.names = names
        self._board = board
        self._beats = bytearray(len(names))
        self.reason, self.error = self._previous(
            machine.reset_cause() if reset_cause is None else reset_cause)

    def _previous(self, reset_cause):
        """Why the last boot ended: a task failure it recorded, else the watchdog if that is
        what reset the chip, else nothing to report."""
        try:
            with open(PENDING_FILE) as f:
                text = f.read()
        except OSError:
            return (REASON_WATCHDOG if reset_cause == machine.WDT_RESET else REASON_NONE), 0
        try:
            os.remove(LAST_FILE)
        except OSError:
            pass
        try:
            os.rename(PENDING_FILE, LAST_FILE)  # reported once, kept for reading
        except OSError:
            pass
        fields = text.split(" ", 2)
        try:
            return int(fields[0]) & 0xFF, int(fields[1]) & 0xFF
        except (IndexError, ValueError):
            return REASON_TASK, ERROR_OTHER  # a record cut short: a task failed all the same

    def beat(self, index):
        self._beats[index] = 1

    async def run(self, index, coro):
        try:
            await coro
        except Exception as error:  # asyncio.CancelledError is not an Exception here
            self.fail(index, error)

    def fail(self, index, error):
        """Record the failure and reset; does not return on the board."""
        text = "%d %d %s: %s: %s" % (REASON_TASK + index, error_code(error), self.names[index],
                                     type(error).__name__, error)
        try:
            with open(PENDING_FILE, "w") as f:
                f.write(text[:_TEXT_MAX])
        except OSError:
            pass  # flash full or failing: reset all the same, the watchdog reason is lost
        machine.reset()

    async def watch(self, period_ms=CHECK_MS):
        """Feed the watchdog while every task shows progress."""
        beats = self._beats
        while True:
            await asyncio.sleep_ms(period_ms)
            if all(beats):
                self._board.feed()
                for i in range(len(beats)):
                    beats[i] = 0
