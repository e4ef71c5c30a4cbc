"""Activity bouts of one foot: which windows may set the runner's own baseline.

A baseline taken over whatever comes first (a warm-up walk, calf raises, standing) makes the run
itself look like a rise. So each window gets an activity from its gait statistics (not
stepping, walking, running, a machine), windows of one activity form a bout, and only a bout's
steady part, after `baseline_settle_s` of it, may set a baseline. A different activity held for
`bout_change_s`, or a pause of `bout_pause_s` without steps, starts a new bout; baselines then
start over instead of comparing one activity with another. So does a change in the plantar pads
the gait figures come from (a pad put under or out of sensor-fault suspicion, see
`risk/sensor_fault.py`): without the heel a contact looks shorter and a walk's duty falls to a
run's, so figures from different pads are not compared. All times are configurable judgements
(`RiskConfig`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.windows import BoolArray, Bouts, WindowBatch, filled

NOT_STEPPING, WALKING, RUNNING, MACHINE = 0, 1, 2, 3


def window_activity(batch: WindowBatch, active: BoolArray, config: RiskConfig) -> np.ndarray:
    """Per window: NOT_STEPPING where `active` is false, else MACHINE when the foot never
    leaves the load (relief under `machine_max_relief`), RUNNING when the contact duty is under
    `running_max_duty`, WALKING otherwise."""
    out = np.full(len(batch), NOT_STEPPING, dtype=np.int8)
    if batch.gait is None:
        out[active] = RUNNING
        return out
    relief = filled(batch.gait.relief, 0.0)
    duty = filled(batch.gait.duty, 1.0)
    kind = np.where(
        relief < config.machine_max_relief,
        MACHINE,
        np.where(duty < config.running_max_duty, RUNNING, WALKING),
    )
    out[active] = kind[active]
    return out


class BoutTracker:
    """Streams windows of one foot and labels each with its bout and whether it is steady."""

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        self._bout = 0
        self._current = NOT_STEPPING  # activity of the current bout; NOT_STEPPING: no bout
        self._elapsed_s = 0.0  # time of the current activity in the bout
        self._other_s = 0.0  # time of a different activity since the last window of the bout's
        self._other = NOT_STEPPING
        self._pause_s = 0.0
        self._pads = 0  # which plantar pads the current bout's gait figures leave out

    def label(
        self,
        batch: WindowBatch,
        active: BoolArray,
        left_out: npt.NDArray[np.int64] | None = None,
    ) -> Bouts:
        """Bouts of the windows of `batch`; `left_out`, per window, a code of the plantar pads
        its gait figures leave out (0: none); a new code starts a new bout."""
        c = self._config
        window_s = c.window_s
        activity = window_activity(batch, active, c)
        bout = np.zeros(len(batch), dtype=np.int64)
        steady = np.zeros(len(batch), dtype=bool)
        codes = left_out.tolist() if left_out is not None else [0] * len(batch)
        for i, (kind, code) in enumerate(zip(activity.tolist(), codes, strict=True)):
            if kind != NOT_STEPPING and code != self._pads:
                self._pads = code
                self._current = NOT_STEPPING  # the figures changed: this starts a new bout
            if kind == NOT_STEPPING:
                self._pause_s += window_s
                if self._pause_s >= c.bout_pause_s:
                    self._current = NOT_STEPPING
            else:
                self._pause_s = 0.0
                if self._current == NOT_STEPPING:
                    self._start(kind, 0.0)
                elif kind != self._current:
                    self._other_s = self._other_s + window_s if kind == self._other else window_s
                    self._other = kind
                    if self._other_s >= c.bout_change_s:
                        self._start(kind, self._other_s - window_s)
                else:
                    self._other_s = 0.0
                if kind == self._current:
                    self._elapsed_s += window_s
                    steady[i] = self._elapsed_s > c.baseline_settle_s
            bout[i] = self._bout
        return Bouts(activity=activity, bout=bout, steady=steady)

    def _start(self, kind: int, elapsed_s: float) -> None:
        self._bout += 1
        self._current = kind
        self._elapsed_s = elapsed_s
        self._other_s = 0.0
        self._other = NOT_STEPPING
