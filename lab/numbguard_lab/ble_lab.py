"""The BLE lab: the real firmware on the real BLE stack, one MicroPython process per insole.

`FirmwareBleLab` starts a `VirtualRadio` (the host's central on a `RadioLink` with a radio's
timing), an `InsoleRadio` per insole (its own virtual controller, at its own public address,
on a pty) and its firmware: a `FirmwareProcess` on ``micropython-nimble``, whose NimBLE host
stack talks HCI to that controller. GAP, GATT, ATT, SMP pairing and bonding, notification
back-pressure (ENOMEM) and the security checks are the firmware's and NimBLE's own; the lab
adds only the radio (`radio_link`) and its faults.

`backend` is what the host's BLE transport takes with ``backend=`` (the host's real
`BleakClient` on bumble, behaving as bleak on BlueZ). `LabBleTransport` is that transport
with the lab started on open and stopped on close, so the CLI uses it like any other; a fresh
lab insole holds no bond, so the first transport pairs (``pair=True``). `run_ble_lab` runs a
whole session: both insoles for a set insole time, STOP, every event into a `SessionRunner`.

Fault times (`RadioFaults`) and the radio's timing are insole seconds: with a clock sped up
`clock_scale` times, a 3 s link drop keeps the insole out of reach for 3 s of its sampling
(3 / clock_scale s of wall time), and connection events come `clock_scale` times as often, so
the ring buffer and the resends see what a real 3 s drop gives them, and a radio that carries
as much per insole second as on a board. The host's own timeouts stay in wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from numbguard.analysis.pipeline import SessionResult
from numbguard.errors import DeviceError
from numbguard.pads import Foot
from numbguard.protocol.constants import OP_STOP
from numbguard.protocol.frames import DataFrame
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent
from numbguard.transports.ble import BleakBackend, BleTransport
from numbguard.transports.pairing import PairingRegistry
from numbguard_lab.board_image import BoardImage
from numbguard_lab.bumble_backend import DEFAULT_CENTRAL_MTU, VirtualRadio
from numbguard_lab.firmware_runner import FirmwareProcess, InsoleSpec, find_micropython_nimble
from numbguard_lab.insole_radio import InsoleRadio
from numbguard_lab.radio_link import RadioFaults, RadioTiming
from numbguard_lab.traces import PadTrace

READY_TIMEOUT_S: Final = 20.0
INSOLE_IDS: Final[dict[Foot, int]] = {"left": 0x1AB0B1E0, "right": 0x2AB0B1E0}
CLOCK_OFFSETS_US: Final[dict[Foot, int]] = {"left": 5_000_000, "right": 17_250_000}
QUIET_S: Final = 1.0  # no data frame for this long after STOP: the insoles are done
SETTLE_S: Final = 15.0  # ... unless frames are still missing: then wait this long for them
EVENT_WAIT_S: Final = 0.2
_WATCH_S: Final = 0.05
SERIAL_TAIL_BYTES: Final = 4096
_ADVERTISING_WAIT_S: Final = 0.05


def lab_specs(
    traces: Mapping[Foot, PadTrace], clock_ppm: Mapping[Foot, int] | None = None
) -> tuple[InsoleSpec, ...]:
    """One insole per trace, each with its own id and clock offset (and skew, in ppm)."""
    return tuple(
        InsoleSpec(
            foot, INSOLE_IDS[foot], trace, CLOCK_OFFSETS_US[foot], (clock_ppm or {}).get(foot, 0)
        )
        for foot, trace in traces.items()
    )


class FirmwareBleLab:
    """The insoles' firmware on one virtual radio. `async with` starts and stops it all."""

    def __init__(
        self,
        workdir: Path,
        specs: tuple[InsoleSpec, ...],
        *,
        faults: Mapping[Foot, RadioFaults] | None = None,
        clock_scale: int = 1,
        central_mtu: int = DEFAULT_CENTRAL_MTU,
        timing: RadioTiming | None = None,
        micropython: str | None = None,
        env: Mapping[Foot, dict[str, str]] | None = None,
        board: BoardImage | None = None,
    ) -> None:
        """`board`: each insole runs what `numbguard flash` deploys in a board-sized heap
        (`numbguard_lab.board_image`) instead of `firmware/main.py` from source."""
        self.workdir = workdir
        self.specs = specs
        self.faults = dict(faults or {})
        self.clock_scale = clock_scale
        self.central_mtu = central_mtu
        self.timing = timing
        self.micropython = micropython
        self.extra_env = dict(env or {})
        self.board = board
        self.radio: VirtualRadio | None = None
        self.radios: dict[Foot, InsoleRadio] = {}
        self.firmware: dict[Foot, FirmwareProcess] = {}
        self._draining = threading.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._resetting: set[Foot] = set()
        self.serial_tail: dict[Foot, bytes] = {}

    @property
    def backend(self) -> BleakBackend:
        if self.radio is None:
            raise DeviceError("the BLE lab is not started")
        return self.radio.bleak_backend()

    async def __aenter__(self) -> FirmwareBleLab:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self.radio is not None:
            return
        self.radio = VirtualRadio(
            central_mtu=self.central_mtu, timing=self.timing, time_scale=self.clock_scale
        )
        micropython = self.micropython or find_micropython_nimble()
        self._draining.set()
        try:
            for spec in self.specs:
                radio = InsoleRadio(
                    self.radio.link, f"insole-{spec.foot}",
                    self.workdir / f"{spec.foot}-uart", spec.unique_id_hex,
                    faults=self.faults.get(spec.foot), time_scale=self.clock_scale,
                )  # fmt: skip
                self.radios[spec.foot] = radio
                await radio.power_on()
                process = FirmwareProcess(
                    spec, self.workdir / spec.foot, clock_scale=self.clock_scale,
                    micropython=micropython,
                    env=radio.env | self.extra_env.get(spec.foot, {}), board=self.board,
                )  # fmt: skip
                self.firmware[spec.foot] = process
                process.start()
                threading.Thread(target=self._drain_serial, args=(process,), daemon=True).start()
            for foot in self.radios:
                await self._wait_ready(foot)
            self._watch_task = asyncio.get_running_loop().create_task(self._watch())
        except BaseException:
            await self.stop()
            raise

    def _drain_serial(self, firmware: FirmwareProcess) -> None:
        """Read what the firmware writes on serial (status pages while no central is connected,
        and its tracebacks, which the unix port prints there), so its stdout pipe never fills
        and blocks it; the last `SERIAL_TAIL_BYTES` are kept in `serial_tail`."""
        drained = None
        while self._draining.is_set():
            process = firmware.process
            if process is None or process is drained or process.stdout is None:
                time.sleep(0.05)
                continue
            with contextlib.suppress(OSError, ValueError):
                while chunk := process.stdout.read(4096):
                    tail = self.serial_tail.get(firmware.spec.foot, b"") + chunk
                    self.serial_tail[firmware.spec.foot] = tail[-SERIAL_TAIL_BYTES:]
            drained = process

    async def _wait_ready(self, foot: Foot) -> None:
        """Until the insole advertises (its NimBLE started and set its GATT table up), or a
        central already answered its advertising."""
        firmware = self.firmware[foot]
        deadline_s = time.monotonic() + READY_TIMEOUT_S
        while True:
            controller = self.radios[foot].controller
            if controller is not None and (
                controller.le_legacy_advertiser.enabled or controller.le_connections
            ):
                return
            if not firmware.running:
                # The unix port prints tracebacks on stdout, the insole's serial line.
                said = firmware.stderr_text + self.serial_tail.get(foot, b"").decode(
                    errors="replace")  # fmt: skip
                raise DeviceError(f"{firmware.name} exited at boot: {said[-800:]}")
            if time.monotonic() > deadline_s:
                raise DeviceError(f"{firmware.name}: not advertising after {READY_TIMEOUT_S} s")
            await asyncio.sleep(_ADVERTISING_WAIT_S)

    async def _watch(self) -> None:
        """A firmware process that ends (a crash, the watchdog, a stop) takes its radio with
        it: the central's link times out and the insole stops advertising."""
        while True:
            await asyncio.sleep(_WATCH_S)
            for foot, firmware in self.firmware.items():
                radio = self.radios[foot]
                if foot not in self._resetting and not firmware.running and radio.controller:
                    await radio.power_off()

    async def reset(self, foot: Foot) -> None:
        """A watchdog reset of one insole: the chip (radio included) restarts on the same
        flash, so its bonds and its address stay."""
        await self._boot(foot, self.firmware[foot].start)

    async def wake(self, foot: Foot) -> None:
        """Press the wake button of an insole that went to deep sleep (its firmware ended in
        `machine.deepsleep`): it boots as a wake, on the same flash."""
        firmware = self.firmware[foot]
        if firmware.running:
            raise DeviceError(f"{firmware.name}: awake already, not in deep sleep")
        await self._boot(foot, firmware.wake)

    async def _boot(self, foot: Foot, start: Callable[[], None]) -> None:
        self._resetting.add(foot)
        try:
            await asyncio.to_thread(self.firmware[foot].kill)
            await self.radios[foot].power_on()
            await asyncio.to_thread(start)
            await self._wait_ready(foot)
        finally:
            self._resetting.discard(foot)

    async def press_button(self, foot: Foot, held_s: float) -> None:
        """Hold the insole's button for `held_s` insole seconds, then let go (3 s opens the
        pairing window, 10 s forgets every bond: firmware/button.py)."""
        firmware = self.firmware[foot]
        firmware.hold_button(True)
        try:
            await asyncio.sleep(held_s / self.clock_scale)
        finally:
            firmware.hold_button(False)

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch_task
            self._watch_task = None
        for firmware in self.firmware.values():
            await asyncio.to_thread(firmware.close)
        for radio in self.radios.values():
            await radio.close()
        self._draining.clear()


class LabBleTransport(BleTransport):
    """The BLE transport on a `FirmwareBleLab` that it starts on open and stops on close."""

    def __init__(self, lab: FirmwareBleLab, **options: Any) -> None:
        options.setdefault("registry", PairingRegistry(None))
        options.setdefault("pair", True)  # fresh lab insoles hold no bond
        super().__init__("ble://", **options)
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


@dataclass
class BleLabRun:
    """What happened: the firmware side (`lab`) and the host side (`runner`, `transport`)."""

    lab: FirmwareBleLab
    runner: SessionRunner
    transport: BleTransport
    result: SessionResult | None = None
    data_events: list[FrameEvent] = field(default_factory=list)
    samples_taken: dict[Foot, int] = field(default_factory=dict)
    wall_s: float = 0.0


async def run_ble_lab(
    lab: FirmwareBleLab,
    runner: SessionRunner,
    *,
    duration_s: float,
    on_event: Callable[[FrameEvent], None] | None = None,
) -> BleLabRun:
    """Both insoles for `duration_s` of insole time over the virtual radio, then STOP."""
    transport = LabBleTransport(lab, feet=tuple(spec.foot for spec in lab.specs))
    run = BleLabRun(lab, runner, transport)
    start_s = time.monotonic()
    async with transport:
        stop_sent = False
        last_data_s = time.monotonic()
        while True:
            insole_s = (time.monotonic() - start_s) * lab.clock_scale
            if not stop_sent and insole_s >= duration_s:
                stop_sent = True
                for foot, radio in lab.radios.items():
                    radio.calm()
                    await _stop(transport, foot)
            quiet_s = time.monotonic() - last_data_s
            # Done once quiet and every hole filled by a resend (or a resend is overdue).
            if (
                stop_sent
                and quiet_s >= QUIET_S
                and (_nothing_missing(transport) or quiet_s > SETTLE_S)
            ):
                break
            try:
                event = await asyncio.wait_for(transport.next_event(), EVENT_WAIT_S)
            except TimeoutError:
                continue
            if event is None:
                break
            runner.on_event(event)
            if on_event is not None:
                on_event(event)
            if isinstance(event.frame, DataFrame):
                last_data_s = time.monotonic()
                run.data_events.append(event)
        run.wall_s = time.monotonic() - start_s
    # Closing the transport stopped the lab: each firmware ended cleanly and counted its reads.
    for foot, firmware in lab.firmware.items():
        run.samples_taken[foot] = firmware.samples_taken()
    run.result = runner.finish()
    return run


def _nothing_missing(transport: BleTransport) -> bool:
    return all(link.caught_up for link in transport.links.values())


async def _stop(transport: BleTransport, foot: Foot) -> None:
    """STOP, once the link is back if a fault has it down; the transport retries lost ones."""
    link = transport.link_for(foot)
    deadline_s = time.monotonic() + SETTLE_S
    while True:
        try:
            await transport.control(link, OP_STOP)
            return
        except DeviceError as error:
            if time.monotonic() > deadline_s:
                raise DeviceError(f"{link}: STOP not answered in {SETTLE_S} s: {error}") from None
            await asyncio.sleep(0.1)
