"""The known-load calibration run against a connected insole (hardware/calibration.md).

`CalibrationRun` drives one insole through a transport: oversampling up for the run, every
load off and TARE, then for each step of a load schedule the tester puts the load on (an
`Operator` says how: prompts and Enter, or a printed schedule the run follows by watching
the pad's reading), the run lets the pad settle and averages its raw counts over the hold.
The readings make a `LoadTable`, fitted per pad by `calibrate_from_loads`; a pad whose fit
is poor or whose exponent is implausible for its sensor is refused. The accepted constants
go to the insole with SET_CAL and are read back with GET_CAL, which must return exactly the
float32 values sent. Settle and hold are counted in samples, not wall-clock time, so a slow
host or a resent frame changes nothing.

The load schedule file (``--loads``) is CSV with optional ``# key=value`` lines first:

```
pad,load_n
ball_center,0
ball_center,2.942
ball_center,9.807
```

`load_n` is the whole force on the spreader (puck, carrier and mass, in newtons); 0 is the
unloaded hold that gives the pad's zero.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, cast

import numpy as np

from numbguard.calibration.fit import PowerLawFit
from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.loads import LoadTable, calibrate_from_loads
from numbguard.errors import BadCalibration, DeviceRefused, DeviceTimeout, LinkLost, WrongDevice
from numbguard.pads import LACE_PADS, PAD_IDS, pads_from_mask
from numbguard.protocol.constants import (
    OP_GET_CAL,
    OP_SET_CAL,
    OP_SET_OVERSAMPLE,
    OP_START,
    OP_TARE,
    RESULT_OK,
)
from numbguard.protocol.frames import ArgValue, DataFrame, Reply, StatusClock, StatusIdentity
from numbguard.transports.base import Transport

logger = logging.getLogger(__name__)

STANDARD_GRAVITY: Final = 9.80665
# hardware/calibration.md: masses for each pad kind, lightest first (kg, without the puck)
PLANTAR_MASSES_KG: Final = (0.2, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0)
LACE_MASSES_KG: Final = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5)
CALIBRATION_OVERSAMPLE: Final = 8
SETTLE_S: Final = 2.0
HOLD_S: Final = 3.0
MAX_RMS_LOG_ERROR: Final = 0.10
PLAUSIBLE_EXPONENT: Final = {"plantar": (0.8, 1.3), "lace": (0.9, 1.6)}
# A load is on (or off) once the reading moves this far from the level before.
CHANGE_MIN_COUNTS: Final = 12
CHANGE_FRACTION: Final = 0.04
DATA_TIMEOUT_S: Final = 5.0
CHANGE_TIMEOUT_S: Final = 60.0
SCHEDULE_HEADER: Final = ("pad", "load_n")


@dataclass(frozen=True)
class LoadStep:
    pad: str
    load_n: float  # the whole force on the spreader; 0 = unloaded


def pad_kind(pad: str) -> str:
    return "lace" if pad in LACE_PADS else "plantar"


def default_schedule(pads: Sequence[str], puck_g: float) -> list[LoadStep]:
    """Each pad unloaded, then the masses of hardware/calibration.md on a puck of `puck_g`."""
    steps = []
    for pad in pads:
        masses = LACE_MASSES_KG if pad in LACE_PADS else PLANTAR_MASSES_KG
        steps.append(LoadStep(pad, 0.0))
        steps += [LoadStep(pad, (kg + puck_g / 1000) * STANDARD_GRAVITY) for kg in masses]
    return steps


def parse_load_schedule(text: str, source: str = "load schedule") -> list[LoadStep]:
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(lines))
    if not rows or tuple(cell.strip() for cell in rows[0]) != SCHEDULE_HEADER:
        raise BadCalibration(
            "bad header",
            expected=",".join(SCHEDULE_HEADER),
            got=repr(rows[0] if rows else None),
            where=source,
        )
    steps = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"{source} row {number}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(SCHEDULE_HEADER):
            raise BadCalibration(
                "wrong number of cells", expected="pad,load_n", got=repr(row), where=where
            )
        pad, load_text = row[0].strip(), row[1].strip()
        if pad not in PAD_IDS:
            raise BadCalibration(
                "unknown pad",
                expected="one of " + ", ".join(PAD_IDS),
                got=repr(pad),
                where=where,
                pad=pad,
            )
        try:
            load_n = float(load_text)
        except ValueError:
            load_n = math.nan
        if not 0 <= load_n <= 10_000:
            raise BadCalibration(
                "bad load_n",
                expected="newtons from 0 to 10000",
                got=repr(load_text),
                where=where,
                pad=pad,
            )
        steps.append(LoadStep(pad, load_n))
    if not steps:
        raise BadCalibration(
            "no loads", expected="at least one row after the header", got="none", where=source
        )
    check_schedule(steps, source)
    return steps


def check_schedule(steps: Sequence[LoadStep], source: str = "load schedule") -> None:
    """Each pad's first step must be unloaded: it gives the zero the loads are read against."""
    seen: set[str] = set()
    for step in steps:
        if step.pad not in seen and step.load_n != 0:
            raise BadCalibration(
                f"pad {step.pad} starts loaded",
                expected="the pad's first row unloaded (load_n 0)",
                got=f"{step.load_n:g} N",
                where=source,
                pad=step.pad,
            )
        seen.add(step.pad)


class Operator(Protocol):
    """The tester's hands: puts loads on and takes them off when the run asks."""

    watches_data: bool
    """True when nobody confirms a change: the run waits until the pad's reading shows it."""

    async def place(self, step: LoadStep) -> float:
        """Put the step's load on (or, for load 0, take everything off the pad); return the
        load actually on in newtons (a tester may type what the scale showed)."""

    async def remove(self, pad: str) -> None:
        """Take the load off `pad`."""


@dataclass
class PadResult:
    pad: str
    fit: PowerLawFit
    accepted: bool
    reason: str = ""


@dataclass
class CalibrationOutcome:
    table: LoadTable
    calibration: InsoleCalibration
    pads: dict[str, PadResult] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)  # pads whose constants the insole holds

    @property
    def refused(self) -> list[PadResult]:
        return [result for result in self.pads.values() if not result.accepted]


def judge_fit(pad: str, fit: PowerLawFit) -> PadResult:
    """Accept a pad when its fit is within 10 % RMS and its exponent plausible for its sensor."""
    low, high = PLAUSIBLE_EXPONENT[pad_kind(pad)]
    if fit.rms_log_error >= MAX_RMS_LOG_ERROR:
        reason = (f"fit error {fit.rms_log_error:.1%} RMS (expected < {MAX_RMS_LOG_ERROR:.0%}):"
                  " check the puck is centred, repeat")  # fmt: skip
        return PadResult(pad, fit, False, reason)
    if not low <= fit.exponent <= high:
        return PadResult(pad, fit, False, f"exponent {fit.exponent:.3f} (expected {low}-{high} "
                         f"for a {pad_kind(pad)} pad): check the sensor and spreader")  # fmt: skip
    return PadResult(pad, fit, True)


class CalibrationRun:
    """One insole at `link` on `transport`, calibrated by `operator`."""

    def __init__(
        self,
        transport: Transport,
        link: str,
        operator: Operator,
        *,
        settle_s: float = SETTLE_S,
        hold_s: float = HOLD_S,
        progress: Callable[[str], None] = print,
    ) -> None:
        self.transport = transport
        self.link = link
        self.operator = operator
        self.settle_s = settle_s
        self.hold_s = hold_s
        self.progress = progress
        self.identity: StatusIdentity | None = None
        self.oversample_before: int | None = None
        self.rate_hz = 0

    # -- control ---------------------------------------------------------------------------

    async def _control(self, opcode: int, **args: ArgValue) -> Reply:
        # Any: the transport's own keyword options (timeout_s, attempts) are not among `args`.
        reply = await self.transport.control(self.link, opcode, **cast(dict[str, Any], args))
        if reply.result != RESULT_OK:
            raise DeviceRefused(self.link, f"control {args or ''}",
                                f"{reply.describe()}: expected OK")  # fmt: skip
        return reply

    # -- data ------------------------------------------------------------------------------

    async def read_status(self) -> None:
        """Status pages 0 and 1 (the transport asked for every page when it opened)."""
        while self.identity is None or self.oversample_before is None:
            event = await self.transport.next_event(DATA_TIMEOUT_S)
            if event is None:
                raise LinkLost(self.link, detail="closed before the status pages came")
            if isinstance(event.frame, StatusIdentity):
                self.identity = event.frame
            elif isinstance(event.frame, StatusClock):
                self.oversample_before = event.frame.oversample
        logger.info("%s: %s insole %s, pads %s, oversample %s", self.link, self.identity.foot,
                    self.identity.insole_id, ", ".join(self.pads),
                    self.oversample_before)  # fmt: skip

    async def _pad_counts(self, pad: str) -> tuple[float, np.ndarray]:
        """(arrival time, counts of `pad`) of the next data frame."""
        while True:
            event = await self.transport.next_event(DATA_TIMEOUT_S)
            if event is None:
                raise LinkLost(self.link, detail="closed during the calibration")
            frame = event.frame
            if isinstance(frame, DataFrame) and frame.n_sets:
                pads = pads_from_mask(frame.pad_mask)
                if pad not in pads:
                    raise WrongDevice(
                        self.link, what=f"pad {pad} is not on this insole",
                        expected=f"{pad} in the data frames", got=", ".join(pads),
                    )  # fmt: skip
                self.rate_hz = frame.rate_hz
                return event.received_s, frame.samples[:, pads.index(pad)].astype(np.float64)

    async def _samples(self, pad: str, count: int, after_s: float | None = None) -> np.ndarray:
        """The next `count` samples of `pad` (from frames that arrived after `after_s`)."""
        taken: list[np.ndarray] = []
        have = 0
        while have < count:
            received_s, counts = await self._pad_counts(pad)
            if after_s is not None and received_s < after_s:
                continue
            taken.append(counts)
            have += counts.size
        return np.concatenate(taken)[:count]

    async def _wait_for(self, pad: str, level: float, *, change: bool) -> None:
        """Until the reading moves away from `level` (change) or comes back to it."""
        threshold = max(CHANGE_MIN_COUNTS, CHANGE_FRACTION * level)
        waited = 0
        while True:
            _, counts = await self._pad_counts(pad)
            far = np.abs(counts - level) > threshold
            if bool(far.any()) if change else bool((~far).any()):
                return
            waited += counts.size
            if waited > CHANGE_TIMEOUT_S * max(self.rate_hz, 1):
                what = "move away from" if change else "come back to"
                raise DeviceTimeout(
                    self.link, f"change of pad {pad}'s reading", CHANGE_TIMEOUT_S,
                    detail=f"expected it to {what} {level:.0f} counts",
                )  # fmt: skip

    async def _hold(self, pad: str, after_s: float | None) -> float:
        """Mean counts over the hold, after the settle time."""
        rate = max(self.rate_hz, 1)
        await self._samples(pad, max(1, round(self.settle_s * rate)), after_s)
        return float(np.mean(await self._samples(pad, max(1, round(self.hold_s * rate)))))

    # -- the run ---------------------------------------------------------------------------

    async def measure(self, schedule: Sequence[LoadStep]) -> LoadTable:
        """Take every step of `schedule`; return the readings as a load table."""
        check_schedule(schedule)
        await self.read_status()
        assert self.identity is not None
        absent = sorted({step.pad for step in schedule} - set(self.pads))
        if absent:
            raise BadCalibration(
                "load schedule names pads this insole does not have",
                expected="pads among " + ", ".join(self.pads),
                got=", ".join(absent),
                pad=absent[0],
            )
        table = LoadTable(metadata={"insole_id": str(self.identity.insole_id),
                                    "foot": self.identity.foot})  # fmt: skip
        await self._control(OP_SET_OVERSAMPLE, oversample=CALIBRATION_OVERSAMPLE)
        await self._control(OP_START)
        try:
            await self._pad_counts(schedule[0].pad)  # learn the rate
            levels: dict[str, float] = {}
            for step in schedule:
                table.add(step.pad, *await self._step(step, levels))
        finally:
            if self.oversample_before is not None:
                await self._control(OP_SET_OVERSAMPLE, oversample=self.oversample_before)
        return table

    async def _step(self, step: LoadStep, levels: dict[str, float]) -> tuple[float, float]:
        pad = step.pad
        zero = levels.get(pad)
        load_n = await self.operator.place(step)
        placed_s = time.monotonic()
        watch = self.operator.watches_data
        if watch and step.load_n > 0 and zero is not None:
            await self._wait_for(pad, zero, change=True)
        counts = await self._hold(pad, None if watch else placed_s)
        if step.load_n > 0:
            await self.operator.remove(pad)
            if watch and zero is not None:
                await self._wait_for(pad, zero, change=False)
        elif zero is None:  # the pad's first unloaded hold: its zero, and the insole's tare
            levels[pad] = counts
            await self._control(OP_TARE, pad_mask=1 << PAD_IDS.index(pad))
        self.progress(f"{pad}: {load_n:g} N -> {counts:.1f} counts")
        logger.info("%s: %s held %g N: %.1f counts", self.link, pad, load_n, counts)
        return load_n, counts

    @property
    def pads(self) -> tuple[str, ...]:
        """The pads the insole reports present (known once `read_status` ran)."""
        if self.identity is None:
            # An ordering bug of the caller (read_status runs first), not a fault of the user.
            raise RuntimeError(f"{self.link}: pads asked for before read_status")
        return pads_from_mask(self.identity.pad_mask)

    def fit(self, table: LoadTable, start: InsoleCalibration | None = None) -> CalibrationOutcome:
        """Fit every pad of `table` over `start` (default: the nominal constants) and judge
        each fit; a refused pad keeps its constants from `start`."""
        assert self.identity is not None
        if start is None:
            start = InsoleCalibration.default(self.pads, foot=self.identity.foot,
                                              insole_id=self.identity.insole_id)  # fmt: skip
        fitted, fits = calibrate_from_loads(start, table)
        outcome = CalibrationOutcome(table, start)
        for pad, fit in fits.items():
            outcome.pads[pad] = judge_fit(pad, fit)
            verdict = "accepted" if outcome.pads[pad].accepted else outcome.pads[pad].reason
            logger.info("%s: gain %.6g, exponent %.4f, RMS log error %.3f: %s", pad, fit.gain,
                        fit.exponent, fit.rms_log_error, verdict)  # fmt: skip
            if outcome.pads[pad].accepted:
                outcome.calibration = outcome.calibration.with_pad(fitted.pads[pad])
        return outcome

    async def write(self, outcome: CalibrationOutcome) -> None:
        """SET_CAL each accepted pad, then GET_CAL it: the insole must hold exactly those."""
        for pad, result in outcome.pads.items():
            if not result.accepted:
                continue
            pad_bit = PAD_IDS.index(pad)
            gain, exponent = outcome.calibration.pads[pad].device_constants()
            logger.info("%s: SET_CAL %s gain %d exponent %d", self.link, pad, gain, exponent)
            await self._control(OP_SET_CAL, pad_bit=pad_bit, gain=gain, exponent=exponent)
            reply = await self._control(OP_GET_CAL, pad_bit=pad_bit)
            held = (reply.data.get("pad_bit"), reply.data.get("gain"), reply.data.get("exponent"))
            if held != (pad_bit, gain, exponent):
                raise DeviceRefused(
                    self.link, f"SET_CAL of pad {pad}",
                    f"GET_CAL read back {held!r}, expected ({pad_bit}, {gain!r}, {exponent!r})",
                )  # fmt: skip
            outcome.written.append(pad)
