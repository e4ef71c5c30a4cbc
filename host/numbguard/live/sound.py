"""Alerts as sound: the terminal bell by default, spoken with espeak-ng on request."""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Literal, TextIO

from numbguard.errors import ToolMissing
from numbguard.live.sink import SessionSink
from numbguard.types import Alert

SoundMode = Literal["bell", "speak", "off"]


class AlertSound(SessionSink):
    """Makes a sound for each new warning or alert (never for `info`, which clears one)."""

    def __init__(self, mode: SoundMode = "bell", stream: TextIO | None = None) -> None:
        self.mode = mode
        self._stream = stream or sys.stderr
        self._espeak = shutil.which("espeak-ng") if mode == "speak" else None
        if mode == "speak" and self._espeak is None:
            raise ToolMissing(
                "espeak-ng", purpose="speak alerts",
                install="on the PATH; Debian: apt-get install espeak-ng",
            )  # fmt: skip
        self._speakers: list[subprocess.Popen[bytes]] = []

    def alert(self, alert: Alert) -> None:
        self.announce(alert)

    def announce(self, alert: Alert) -> None:
        if self.mode == "off" or alert.severity == "info":
            return
        if self._espeak is not None:
            # Not waited for: the session must not stall while a sentence is spoken.
            self._speakers = [p for p in self._speakers if p.poll() is None]
            self._speakers.append(
                subprocess.Popen(
                    [self._espeak, f"{alert.foot} foot. {alert.message}"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        else:
            self._stream.write("\a")
            self._stream.flush()

    def close(self) -> None:
        for speaker in self._speakers:
            speaker.wait()
