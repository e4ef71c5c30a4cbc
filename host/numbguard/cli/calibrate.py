"""`numbguard calibrate URL`: the known-load calibration of one connected insole.

Interactive by default: the standard masses of hardware/calibration.md, one prompt per hold
(press Enter, or type what the scale showed). With ``--loads FILE`` it follows that schedule
without questions, going on when the pad's reading shows the load put on or taken off. The
fitted constants go to the insole (SET_CAL, verified with GET_CAL) and to the calibration
JSON file; the readings are kept next to it as a load table (CSV).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from numbguard.cli.log_options import add_log_arguments
from numbguard.errors import BadCalibration, BadValue

if TYPE_CHECKING:
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.session.calibration_procedure import CalibrationOutcome, CalibrationRun, LoadStep
    from numbguard.transports.base import InsoleIdentity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the insole, e.g. serial:///dev/ttyUSB0 or ble://")
    parser.add_argument("--foot", choices=("left", "right"), help="which insole, if two answer")
    parser.add_argument("--loads", type=Path, metavar="FILE",
                        help="CSV schedule pad,load_n: run it without prompts")  # fmt: skip
    parser.add_argument("--pads", help="pads to calibrate, comma-separated (default: all present)")
    parser.add_argument("--puck-g", type=float, default=0.0,
                        help="puck and carrier in grams, added to each standard mass")  # fmt: skip
    parser.add_argument("--out", type=Path, help="calibration JSON (default FOOT-INSOLEID.json); "
                        "an existing file's other pads are kept")  # fmt: skip
    # Unset means the procedure's SETTLE_S and HOLD_S (importing it here would cost numpy).
    parser.add_argument("--settle-s", type=float, help="wait after a change")
    parser.add_argument("--hold-s", type=float, help="average over this long")
    add_log_arguments(parser)


class PromptingOperator:
    """Asks the tester at the terminal for each hold. Before a pad's first hold it asks for
    the conditioning of hardware/calibration.md: FSRs show ~10 % hysteresis on first loads."""

    watches_data = False

    def __init__(self) -> None:
        self.heaviest_n: dict[str, float] = {}

    def plan(self, schedule: list[LoadStep]) -> None:
        for step in schedule:
            self.heaviest_n[step.pad] = max(step.load_n, self.heaviest_n.get(step.pad, 0.0))

    async def _ask(self, prompt: str) -> str:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            raise BadValue(
                "no answer at the prompt",
                expected="Enter or the weighed grams (or --loads FILE to run without prompts)",
                got="end of input",
                name="prompt answer",
            ) from None

    async def place(self, step: LoadStep) -> float:
        from numbguard.session.calibration_procedure import STANDARD_GRAVITY

        if step.load_n == 0:
            heaviest_g = self.heaviest_n.pop(step.pad, 0.0) / STANDARD_GRAVITY * 1000
            if heaviest_g:
                print(f"Condition {step.pad}: load it five times with {heaviest_g:.0f} g for "
                      "about 3 s each.")  # fmt: skip
            await self._ask(f"Take everything off {step.pad}, then press Enter: ")
            return 0.0
        grams = step.load_n / STANDARD_GRAVITY * 1000
        while True:
            answer = (await self._ask(
                f"Put {grams:.0f} g ({step.load_n:.3f} N, puck included) on {step.pad}; press "
                "Enter, or type the grams the scale showed: "
            )).strip()  # fmt: skip
            if not answer:
                return step.load_n
            try:
                weighed_g = float(answer)
            except ValueError:
                weighed_g = -1.0
            if weighed_g > 0:
                return weighed_g / 1000 * STANDARD_GRAVITY
            print(f"expected grams above 0, got {answer!r}")

    async def remove(self, pad: str) -> None:
        await self._ask(f"Take the load off {pad}, then press Enter: ")


class ScheduledOperator:
    """Says what to do and lets the run watch the reading for it."""

    watches_data = True

    async def place(self, step: LoadStep) -> float:
        if step.load_n == 0:
            print(f"Nothing on {step.pad} now.", flush=True)
        else:
            print(f"Put {step.load_n:g} N on {step.pad}.", flush=True)
        return step.load_n

    async def remove(self, pad: str) -> None:
        print(f"Take the load off {pad}.", flush=True)


def _pads(text: str | None, present: tuple[str, ...]) -> tuple[str, ...]:
    if not text:
        return present
    pads = tuple(pad.strip() for pad in text.split(",") if pad.strip())
    for pad in pads:
        if pad not in present:
            raise BadValue(
                "pad not on this insole",
                expected="one of " + ", ".join(present),
                got=repr(pad),
                where="--pads",
                name="--pads",
            )
    return pads


def _start(out: Path, run: CalibrationRun) -> InsoleCalibration:
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.calibration.store import load_calibration

    """Nominal constants for the pads present, with those of an existing file of this insole
    (its pads that are not calibrated now stay as they are)."""
    assert run.identity is not None
    start = InsoleCalibration.default(run.pads, foot=run.identity.foot,
                                      insole_id=run.identity.insole_id)  # fmt: skip
    if not out.exists():
        return start
    existing = load_calibration(out)
    if existing.insole_id not in (None, run.identity.insole_id):
        raise BadCalibration(
            "calibration file is another insole's",
            expected=f"insole id {run.identity.insole_id}",
            got=str(existing.insole_id),
            where=str(out),
        )
    for pad in existing.pads.values():
        start = start.with_pad(pad)
    return start


def _report(outcome: CalibrationOutcome) -> None:
    for pad, result in outcome.pads.items():
        fit = result.fit
        verdict = "accepted" if result.accepted else f"REFUSED: {result.reason}"
        print(f"  {pad}: gain {fit.gain:.6g}, exponent {fit.exponent:.4f}, RMS error "
              f"{fit.rms_log_error:.1%}, {fit.points_used} points ({fit.points_excluded} out of "
              f"range) - {verdict}")  # fmt: skip


async def _calibrate(args: argparse.Namespace) -> int:
    from numbguard.calibration.store import save_calibration
    from numbguard.calibration.textfile import read_text
    from numbguard.private_files import write_private_text
    from numbguard.session.calibration_procedure import (
        HOLD_S,
        SETTLE_S,
        CalibrationRun,
        default_schedule,
        parse_load_schedule,
    )
    from numbguard.transports import open_transport

    schedule = parse_load_schedule(read_text(args.loads, "load schedule", "a CSV file"),
                                   str(args.loads)) if args.loads else None  # fmt: skip
    operator = ScheduledOperator() if schedule else PromptingOperator()
    async with open_transport(args.url) as transport:
        link = transport.link_for(args.foot) if args.foot else _only_link(transport.insoles)
        run = CalibrationRun(
            transport, link, operator,
            settle_s=SETTLE_S if args.settle_s is None else args.settle_s,
            hold_s=HOLD_S if args.hold_s is None else args.hold_s,
        )  # fmt: skip
        await run.read_status()
        assert run.identity is not None
        out = args.out or Path(f"{run.identity.foot}-{run.identity.insole_id}.json")
        start = _start(out, run)
        if schedule is None:
            schedule = default_schedule(_pads(args.pads, run.pads), args.puck_g)
        if isinstance(operator, PromptingOperator):
            operator.plan(schedule)
        print(f"calibrating {run.identity.foot} insole {run.identity.insole_id} on {link}: "
              f"{len(schedule)} holds", flush=True)  # fmt: skip
        table = await run.measure(schedule)
        table_path = out.with_name(f"{out.stem}-loads.csv")
        # The readings are kept whatever the fit says.
        write_private_text(table_path, table.to_csv())
        outcome = run.fit(table, start)
        _report(outcome)
        await run.write(outcome)
    save_calibration(outcome.calibration, out)
    print(f"insole holds the constants of {', '.join(outcome.written) or 'no pad'} (GET_CAL "
          f"verified); saved {out} and the readings in {table_path}")  # fmt: skip
    return 1 if outcome.refused else 0


def _only_link(insoles: tuple[InsoleIdentity, ...]) -> str:
    if len(insoles) != 1:
        raise BadValue(
            "which insole?",
            expected="one insole, or --foot",
            got=f"{len(insoles)} insoles",
            name="--foot",
        )
    return insoles[0].link


def run(args: argparse.Namespace) -> int:
    if args.pads and args.loads:
        raise BadValue(
            "--pads and --loads both given",
            expected="one of them",
            got="both (the schedule names its pads)",
            name="--pads, --loads",
        )
    return asyncio.run(_calibrate(args))
