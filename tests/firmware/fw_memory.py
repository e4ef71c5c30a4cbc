"""The firmware's heap through a session, phase by phase (the budget test and the benchmark).

One insole in a `FirmwareBleLab`, running what `numbguard flash` deploys in a board-sized heap
(`numbguard_lab.board_image`), while the lab's central pairs, subscribes and takes the stream
at MTU 23 (one six-pad set per frame: the most frames, the most notifications), the ring fills
with history, a RESEND asks for a burst of it and GET_STATUS for the five status pages; then a
second central (a watch) pairs in the window the button opens and takes RSC Measurements while
the host streams on. After each phase the heap watch's report is read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bumble.core import UUID
from bumble.device import Peer
from fw_radio import Central, connect, data_seqs, second_central, until

from numbguard.protocol import Reply
from numbguard_lab.ble_lab import INSOLE_IDS, FirmwareBleLab
from numbguard_lab.board_image import WATCH_MS, BoardImage, HeapReport, read_heap
from numbguard_lab.firmware_runner import InsoleSpec

CLOCK_SCALE: Final = 5
RING_FULL_S: Final = 33.0  # device seconds of sampling: past the ring's 31 s at 100 Hz
RESEND_FRAMES: Final = 400  # 4 s of MTU-23 frames from the history
PHASES: Final = ("booted", "streaming", "ring full", "resend burst", "status pages",
                  "cadence central")
RSC_MEASUREMENT: Final = UUID.from_16_bits(0x2A53)
BUTTON_S: Final = 3.5  # opens the pairing window (button.py)


@dataclass
class HeapRun:
    """The report after each phase, and what would say the firmware failed meanwhile."""

    reports: dict[str, HeapReport] = field(default_factory=dict)
    boots: int = 0
    running: bool = False
    output: str = ""  # the firmware's stderr and serial tail (a MemoryError shows here)
    resend: Reply | None = None


async def _fresh_report(lab: FirmwareBleLab) -> HeapReport:
    """The report once two watch periods of device time have passed since this call."""
    await asyncio.sleep(2 * WATCH_MS / 1000 / CLOCK_SCALE + 0.2)
    flash_dir = lab.firmware["left"].flash_dir
    return await until(lambda: read_heap(flash_dir), "the firmware's heap report")


async def run_heap_phases(workdir: Path, micropython: str, board: BoardImage) -> HeapRun:
    run = HeapRun()
    spec = InsoleSpec("left", INSOLE_IDS["left"])
    lab = FirmwareBleLab(workdir, (spec,), micropython=micropython, board=board,
                         clock_scale=CLOCK_SCALE)  # fmt: skip
    async with lab:
        loop = asyncio.get_running_loop()
        started_s = loop.time()
        run.reports["booted"] = await _fresh_report(lab)

        connection = await connect(lab)
        central = Central(connection)
        await central.discover()
        await connection.pair()
        await central.subscribe()
        await until(lambda: len(central.data()) >= 200, "200 data frames at MTU 23")
        run.reports["streaming"] = await _fresh_report(lab)

        wait_s = RING_FULL_S / CLOCK_SCALE - (loop.time() - started_s)
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        run.reports["ring full"] = await _fresh_report(lab)

        newest = max(data_seqs(central.heard))
        first = newest - 2500  # from the older end of the history
        run.resend = await central.resend(601, first, first + RESEND_FRAMES - 1)
        run.reports["resend burst"] = await _fresh_report(lab)

        await central.get_status(700)
        run.reports["status pages"] = await _fresh_report(lab)

        await lab.press_button("left", BUTTON_S)
        watch = await second_central(lab, "watch")
        await watch.pair()
        peer = Peer(watch)
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
        measurements: list[bytes] = []
        measurement = peer.get_characteristics_by_uuid(RSC_MEASUREMENT)[0]
        await peer.subscribe(measurement, lambda value: measurements.append(bytes(value)))
        await until(lambda: len(measurements) >= 3, "RSC measurements on the watch")
        run.reports["cadence central"] = await _fresh_report(lab)
        await watch.disconnect()
        await connection.disconnect()

        firmware = lab.firmware["left"]
        run.boots = firmware.boots
        run.running = firmware.running
        run.output = firmware.stderr_text + lab.serial_tail.get("left", b"").decode(
            errors="replace")  # fmt: skip
    return run
