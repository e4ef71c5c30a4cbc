"""Running totals of an insole's status counters, which travel as uint16 and wrap.

Pages 2 and 3 carry counters since boot modulo 2^16 (frames sent, resent, dropped, radio
retries, late samples); the host adds up the steps between pages. A new `boot_id` in page 0
means the counters restarted from 0.
"""

from __future__ import annotations

from typing import Final

from numbguard.protocol.constants import SEQ_MODULO
from numbguard.protocol.frames import StatusCounters, StatusFrame, StatusIdentity, StatusTiming

COUNTER_NAMES: Final = (
    "frames_sent",
    "frames_resent",
    "frames_dropped",
    "notify_retries",
    "late_samples",
)


class CounterTotals:
    """Totals of the wrapping counters since the first page, across wraps and restarts.

    A counter step longer than 2^16 between two pages (pages come every 5 s) is not expected:
    at 200 frames/s, frames_sent wraps every 5.5 min.
    """

    def __init__(self) -> None:
        self.totals: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._last: dict[str, int] = {}
        self._boot_id: int | None = None

    def on_status(self, page: StatusFrame) -> None:
        if isinstance(page, StatusIdentity):
            if self._boot_id is not None and page.boot_id != self._boot_id:
                self._last.clear()  # the new boot counts from 0
            self._boot_id = page.boot_id
            return
        if not isinstance(page, StatusCounters | StatusTiming):
            return
        for name in COUNTER_NAMES:
            if hasattr(page, name):
                value = int(getattr(page, name))
                # The first page of a boot counts from the boot's 0.
                self.totals[name] += (value - self._last.get(name, 0)) % SEQ_MODULO
                self._last[name] = value
