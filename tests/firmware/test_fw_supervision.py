"""Supervision under MicroPython (firmware/supervisor.py): no silent half-dead insole.

`main.Firmware().run()` runs on the unix port with its serial link on a pipe kept open, the
simulated clock four times faster, and a fault put into one task from outside the firmware
(the task's own step replaced by one that raises, or by one that never returns). A task that
raises resets the chip at once with its reason on flash; a task that stops making progress
stops the watchdog's feeding, and the simulated WDT resets the chip when its timeout passes
(`lab/numbguard_lab/micropython/machine.py`). The next boot, on the same flash, reports why in
status page 3, decoded by the host's codec.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from fw_harness import MicroPython

from numbguard.protocol.codec import decode_frame
from numbguard.protocol.constants import (
    FIRMWARE_TASKS,
    RESET_ERROR_OTHER,
    RESET_ERRORS,
    RESET_NONE,
    RESET_TASK,
    RESET_WATCHDOG,
)
from numbguard.protocol.frames import StatusTiming

CLOCK_SCALE: Final = 4
WATCHDOG_MS: Final = 8000  # main.WATCHDOG_MS
SIM_RESET_EXIT: Final = 1  # the simulated machine.reset() ends the process with 1
SIM_WDT_EXIT: Final = 3  # and a watchdog reset with 3 (machine.WDT_EXIT_CODE)
HEALTHY_RUN_S: Final = 6.0  # wall seconds: 24 s of insole time, three watchdog periods
GUARD_S: Final = 60.0  # a run that has not ended by then has failed

# What each task calls on every pass, replaced to fail: a sampler whose tick raises, a sender
# whose ring read raises, a status page that cannot be built, a serial read that raises.
STEPS: Final = {
    "sampler": "fw.insole, 'tick'",
    "sender": "fw.insole.ring, 'next_frame'",
    "status": "fw.insole, 'status_frame'",
    "control": "fw.serial, 'receive'",
}
RUN = """
import asyncio, json, machine, main
fw = main.Firmware()
FAULT = {fault!r}
ERROR = {error}
calls = [0]

def failing(owner, name):
    real = getattr(owner, name)
    def step(*args):
        calls[0] += 1
        if calls[0] == 20:
            raise ERROR
        return real(*args)
    setattr(owner, name, step)

async def never():
    while True:
        await asyncio.sleep_ms(1000)  # the loop goes on; this task never passes its beat again

if FAULT == "stall":
    fw.send_task = never
elif FAULT:
    failing({step})
asyncio.run(fw.run())
print()  # after the serial frames on stdout
print(json.dumps({{"fed": fw.board._wdt.fed, "log": [e[0] for e in machine.log]}}))
"""
BOOT = """
import json, main
from binascii import hexlify
fw = main.Firmware()
print(json.dumps(hexlify(fw.insole.status_frame(3)).decode()))
"""


@dataclass
class Ended:
    returncode: int
    stdout: str
    stderr: str


def _run_firmware(
    mpy: MicroPython, fault: str = "", error: str = "OSError(5)", *,
    run_for_s: float | None = None, env: dict[str, str] | None = None,
) -> Ended:  # fmt: skip
    """main.py's run loop with `fault` put in; serial input stays open until the process ends
    (or, with `run_for_s`, until then, which ends the run cleanly)."""
    step = STEPS.get(fault, "")
    script = RUN.format(fault=fault, error=error, step=step)
    path = mpy.workdir / "run.py"
    path.write_text(textwrap.dedent(script))
    out_path, err_path = mpy.workdir / "stdout.bin", mpy.workdir / "stderr.txt"
    # Output to files: the serial frames would fill a pipe nobody reads while we wait.
    with out_path.open("wb") as out, err_path.open("wb") as err, subprocess.Popen(
        [mpy.binary, str(path)], stdin=subprocess.PIPE, stdout=out, stderr=err,
        cwd=mpy.workdir, env=mpy.env({"NUMBGUARD_CLOCK_SCALE": str(CLOCK_SCALE), **(env or {})}),
    ) as process:  # fmt: skip
        assert process.stdin is not None
        try:
            if run_for_s is not None:
                time.sleep(run_for_s)
                process.stdin.close()  # end of serial input: the control task returns
            process.wait(timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"the firmware did not end within {GUARD_S} s") from None
        finally:
            if not process.stdin.closed:
                process.stdin.close()
    return Ended(process.returncode, out_path.read_bytes().decode(errors="replace"),
                 err_path.read_text())  # fmt: skip


def _page3_after_boot(mpy: MicroPython, env: dict[str, str] | None = None) -> StatusTiming:
    """Boot again on the same flash; status page 3 as the host decodes it."""
    raw = bytes.fromhex(mpy.json(BOOT, env=env))
    page = decode_frame(raw)
    assert isinstance(page, StatusTiming)
    return page


@pytest.fixture
def flash(micropython_bin: str, tmp_path: Path) -> MicroPython:
    """The unix port in a directory that is the insole's flash across its boots."""
    return MicroPython(micropython_bin, tmp_path)


@pytest.mark.parametrize("task", FIRMWARE_TASKS)
def test_a_task_that_raises_resets_the_insole_and_the_next_boot_says_why(
    flash: MicroPython, task: str
) -> None:
    ended = _run_firmware(flash, task)
    assert ended.returncode == SIM_RESET_EXIT, ended  # machine.reset(), not the watchdog
    assert "Task exception wasn't retrieved" not in ended.stderr
    record = (flash.workdir / "reset.txt").read_text()
    assert f"{task}: OSError: " in record
    page = _page3_after_boot(flash)
    assert page.reset_reason == RESET_TASK + FIRMWARE_TASKS.index(task)
    assert RESET_ERRORS[page.reset_error] == "OSError"
    assert page.previous_boot_ended() == f"the {task} task failed with OSError and the insole reset"
    # Reported once: the record moved to last_reset.txt, and the boot after says nothing.
    assert not (flash.workdir / "reset.txt").exists()
    assert (flash.workdir / "last_reset.txt").read_text() == record
    assert _page3_after_boot(flash).reset_reason == RESET_NONE


def test_the_exception_class_is_reported(flash: MicroPython) -> None:
    # The race the issue found: gatts_notify(None, ...) raising TypeError in the sender.
    ended = _run_firmware(flash, "sender", "TypeError('object NoneType can not be converted')")
    assert ended.returncode == SIM_RESET_EXIT, ended
    page = _page3_after_boot(flash)
    assert RESET_ERRORS[page.reset_error] == "TypeError"
    assert page.previous_boot_ended() == (
        "the sender task failed with TypeError and the insole reset"
    )


def test_a_task_that_stops_making_progress_starves_the_watchdog(flash: MicroPython) -> None:
    ended = _run_firmware(flash, "stall")
    assert ended.returncode == SIM_WDT_EXIT, ended
    assert "watchdog not fed" in ended.stderr
    assert not (flash.workdir / "reset.txt").exists()  # nothing raised: no record
    # The chip comes back with reset cause WDT_RESET (machine.WDT_RESET = 3).
    page = _page3_after_boot(flash, env={"NUMBGUARD_RESET_CAUSE": "3"})
    assert page.reset_reason == RESET_WATCHDOG
    assert page.previous_boot_ended() == "watchdog reset: a firmware task stopped making progress"


def test_a_healthy_insole_feeds_the_watchdog_and_does_not_reset(flash: MicroPython) -> None:
    ended = _run_firmware(flash, run_for_s=HEALTHY_RUN_S)
    assert ended.returncode == 0, ended
    report = json.loads(ended.stdout.strip().splitlines()[-1])
    # Fed every check (2 s of insole time) while all four tasks beat: 24 s, about 12 feeds.
    insole_ms = HEALTHY_RUN_S * 1000 * CLOCK_SCALE
    assert report["fed"] >= insole_ms / WATCHDOG_MS
    assert "reset" not in report["log"] and "wdt_reset" not in report["log"]
    assert _page3_after_boot(flash).reset_reason == RESET_NONE


def test_the_host_names_the_firmwares_tasks_and_errors(flash: MicroPython) -> None:
    names = flash.json("""
        import json, main, supervisor
        print(json.dumps({"tasks": main.TASKS, "errors": supervisor.ERRORS,
                          "codes": [supervisor.REASON_NONE, supervisor.REASON_WATCHDOG,
                                    supervisor.REASON_TASK, supervisor.ERROR_OTHER]}))
    """)
    assert tuple(names["tasks"]) == FIRMWARE_TASKS
    assert tuple(names["errors"]) == RESET_ERRORS
    assert names["codes"] == [RESET_NONE, RESET_WATCHDOG, RESET_TASK, RESET_ERROR_OTHER]
