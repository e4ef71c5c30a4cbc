# The wake button while the insole runs: a long press opens the pairing window (a new phone or
# host may bond for bonds.PAIRING_WINDOW_MS), a very long press forgets every bond.
# Polled from the control task (every 20 ms): a press is timed from the first poll that sees it.
import time

from micropython import const

PAIRING_PRESS_MS = const(3000)
FORGET_PRESS_MS = const(10000)

NONE = const(0)
OPEN_WINDOW = const(1)
FORGET = const(2)


class Button:
    def __init__(self, pressed, ticks_ms=time.ticks_ms):
        """pressed: a function returning whether the button is held now."""
        self._pressed = pressed
        self._ticks_ms = ticks_ms
        # A button held at boot (a deep-sleep wake) counts only once released.
        self._down_since = None
        self._armed = not pressed()

    def poll(self):
        """NONE, or the action of a press that just ended (or just reached FORGET)."""
        now = self._ticks_ms()
        if self._pressed():
            if not self._armed:
                return NONE
            if self._down_since is None:
                self._down_since = now
            elif time.ticks_diff(now, self._down_since) >= FORGET_PRESS_MS:
                self._down_since = None
                self._armed = False  # held on: nothing more until released
                return FORGET
            return NONE
        self._armed = True
        since = self._down_since
        self._down_since = None
        if since is not None and time.ticks_diff(now, since) >= PAIRING_PRESS_MS:
            return OPEN_WINDOW
        return NONE
