# Power states: what the insole does while no host listens (docs/hardware.md, power budget).
#
#   streaming  a host is there (a BLE central, or one that spoke over serial): sample and send.
#   sampling   no host on any link (a link drop, or none yet since the boot): keep sampling into
#              the ring, so a host back within config host_gone_s gets the gap with RESEND;
#              advertise every 100 ms.
#   idle       no host for host_gone_s: no sampling, pad supply off, LED off, advertising once
#              a second (still connectable). A connection, a serial control frame or the wake
#              button goes back to sampling (streaming when a host came).
#   sleep      idle for config idle_sleep_s: deep sleep with the pads held off, woken by the
#              button. The wake is a new boot; status flag FLAG_WOKE tells it from a reset.
#
# A drop shorter than host_gone_s is not "the host is gone": the ring keeps filling. Over USB
# serial a quiet host cannot be told from a gone one, so a host that spoke over serial keeps
# the insole streaming until the next reset (the USB cable powers the board and charges the
# cell meanwhile).
import time

from micropython import const

import status

STREAMING = const(0)
SAMPLING = const(1)
IDLE = const(2)
SLEEP = const(3)
NAMES = ("streaming", "sampling", "idle", "sleep")
IDLE_ADV_INTERVAL_US = const(1000000)
ADV_INTERVAL_US = const(100000)  # ble.ADV_INTERVAL_US: awake


class Power:
    def __init__(self, board, insole, ble=None, ticks_ms=time.ticks_ms):
        """board: board.Board (pad supply, LED, wake button, deep sleep); ble: ble.Peripheral
        or None."""
        self.board = board
        self.insole = insole
        self.ble = ble
        self._ticks_ms = ticks_ms
        self.state = SAMPLING
        self._since_ms = ticks_ms()
        self.woke = board.woke_from_sleep()
        insole.power_flags = status.FLAG_WOKE if self.woke else 0

    def _elapsed_s(self, now_ms):
        return time.ticks_diff(now_ms, self._since_ms) // 1000

    def _enter(self, state, now_ms):
        self.state = state
        self._since_ms = now_ms

    def update(self, host_present):
        """Move on from the current state; call every control poll (it stays cheap). Returns the
        state. Going to sleep does not return on the board."""
        now_ms = self._ticks_ms()
        state = self.state
        config = self.insole.config
        if host_present:
            if state == IDLE:
                self._wake()
            if state != STREAMING:
                self._enter(STREAMING, now_ms)
        elif state == STREAMING:
            self._enter(SAMPLING, now_ms)  # the host left: keep filling the ring for a while
        elif state == SAMPLING:
            if self._elapsed_s(now_ms) >= config.host_gone_s:
                self._idle()
                self._enter(IDLE, now_ms)
        elif state == IDLE:
            if self.board.wake_pressed():
                self._wake()
                self._enter(SAMPLING, now_ms)
            elif self._elapsed_s(now_ms) >= config.idle_sleep_s and self.board.can_deep_sleep():
                self.state = SLEEP
                self.board.deep_sleep()
        return self.state

    def _idle(self):
        self.insole.stop()  # the packer's partial frame goes to the ring
        self.board.sensor_power(False)
        self.board.led(False)
        if self.ble is not None:
            self.ble.advertise(IDLE_ADV_INTERVAL_US)
        self.insole.power_flags |= status.FLAG_IDLE

    def _wake(self):
        self.board.sensor_power(True)  # waits for the pads to settle
        insole = self.insole
        # A fresh self-check window: the last one ended on samples from before the idle time.
        insole.selfcheck.restart(insole.sampler.pad_mask)
        insole.start()
        if self.ble is not None:
            self.ble.advertise(ADV_INTERVAL_US)  # (not while two centrals are connected)
        insole.power_flags &= ~status.FLAG_IDLE
