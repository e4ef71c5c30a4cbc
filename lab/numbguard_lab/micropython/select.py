# Simulated `select` for the unix port: the built-in (importable as `uselect`), whose poll also
# checks the simulated watchdog (machine.watchdog_check) around every wait of asyncio's loop,
# and, when the clock of `time.py` beside this file runs fast, takes its timeouts in that
# device time, so asyncio's waits (computed from the device's ticks_ms) last the device time
# they should. ipoll gives a list, not the built-in's reused iterator (asyncio only iterates
# over it).
import time

import machine
import uselect as _uselect
import utime as _utime
from uselect import *  # noqa: F403


class poll:
    """Waits to the microsecond when the clock runs fast: a fast clock's sample period can be
    under a millisecond, and the built-in poll's millisecond would make every sample late."""

    def __init__(self):
        self._poll = _uselect.poll()

    def register(self, obj, *eventmask):
        self._poll.register(obj, *eventmask)

    def unregister(self, obj):
        self._poll.unregister(obj)

    def modify(self, obj, eventmask):
        self._poll.modify(obj, eventmask)

    def poll(self, timeout_ms=-1):
        machine.watchdog_check()
        if timeout_ms <= 0 or time.CLOCK_SCALE == 1:
            ready = self._poll.poll(timeout_ms)  # 0: do not wait; negative: for ever
        else:
            whole_ms, rest_us = divmod(time.wall_us(timeout_ms * 1000), 1000)
            ready = self._poll.poll(whole_ms)
            if not ready and rest_us:
                _utime.sleep_us(rest_us)
                ready = self._poll.poll(0)
        machine.watchdog_check()
        return ready

    def ipoll(self, timeout_ms=-1, flags=0):
        return self.poll(timeout_ms)
