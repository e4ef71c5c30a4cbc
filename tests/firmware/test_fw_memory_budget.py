"""The whole firmware fits the heap of an ESP32 without PSRAM: 64 KiB, on the 32-bit build.

The firmware frozen into MicroPython (as `numbguard flash --stage-frozen` stages it for a
board without PSRAM) runs on ``micropython-nimble32`` (32-bit objects, as the ESP32's Xtensa;
the real `bluetooth` module on NimBLE) in a heap of 64 KiB plus what the simulated hardware
modules take, through a session: pairing, streaming at MTU 23 at 100 Hz, the 31 s ring full,
a RESEND burst from the history, status pages (tests/firmware/fw_memory.py). Anything beyond
the budget raises MemoryError in the firmware, which its supervisor turns into a reset: the
test holds it to one boot and no MemoryError. The heap per phase and the `.mpy` deploy's
figures are in docs/performance.md (benchmarks/firmware_sampling.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import pytest
from fw_memory import PHASES, RESEND_FRAMES, run_heap_phases

from numbguard.deploy.bundle import default_firmware_dir
from numbguard.errors import DeviceError, InputError
from numbguard_lab.board_image import build_board_image, frozen_micropython
from numbguard_lab.firmware_runner import find_micropython_nimble
from tests.required_tools import require_tool

BUDGET_BYTES: Final = 64 * 1024
CACHE_DIR: Final = Path.home() / ".cache" / "numbguard"


@pytest.fixture(scope="session")
def frozen_nimble32() -> str:
    require_tool("gcc", "building MicroPython with the firmware frozen in")
    try:
        nimble32 = find_micropython_nimble(bits=32)
        return frozen_micropython(default_firmware_dir(), nimble32,
                                  CACHE_DIR)  # fmt: skip
    except (DeviceError, InputError) as error:  # one line saying why, not a traceback
        pytest.fail(f"{error} (the heap budget test builds it; apt-get install gcc-multilib)",
                    pytrace=False)  # fmt: skip


# On a fresh machine the fixture first builds MicroPython with the firmware frozen in (about
# two minutes on a fast one): more than the suite's per-test timeout allows for.
@pytest.mark.timeout(1200)
def test_the_frozen_firmware_runs_a_whole_session_in_64_kib(
    frozen_nimble32: str, tmp_path: Path
) -> None:
    board = build_board_image(
        default_firmware_dir(), tmp_path, frozen_nimble32,
        load="frozen", budget_bytes=BUDGET_BYTES,
    )  # fmt: skip
    run = asyncio.run(run_heap_phases(tmp_path / "lab", frozen_nimble32, board))
    assert "MemoryError" not in run.output, run.output[-800:]
    assert run.running and run.boots == 1, run.output[-800:]  # no reset on the way
    assert list(run.reports) == list(PHASES)
    assert run.resend is not None and run.resend.data.get("frames_queued") == RESEND_FRAMES
    for phase, report in run.reports.items():
        assert 0 < report.live_bytes < BUDGET_BYTES, phase
    assert run.reports["status pages"].max_live_bytes < BUDGET_BYTES
