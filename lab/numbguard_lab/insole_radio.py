"""One lab insole's radio chip: a virtual controller on a pty, for the firmware's real NimBLE.

The firmware runs on ``micropython-nimble`` (MicroPython's unix port with the real `bluetooth`
module on NimBLE), whose HCI goes over the H4 UART named by ``MICROPYBTUART``. `InsoleRadio`
puts a `TimedController` on the other end of a pty there, on the lab's `RadioLink`, with the
public address an ESP32 takes from its eFuse MAC (the chip's unique id, whose low four bytes
are the insole id: see `InsoleSpec.unique_id_hex`), so the insole keeps its address across
resets and its bonds stay valid.

A reset of the chip resets its controller too: `power_off()` times its links out on the
central's side and removes the controller; `power_on()` gives the next boot a new one at the
same address on the same pty path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, Final

from bumble import hci
from bumble.transport import open_transport

from numbguard_lab.radio_link import RadioCounters, RadioFaults, RadioLink, TimedController

logger = logging.getLogger(__name__)

UART_ENV: Final = "MICROPYBTUART"


def insole_public_address(unique_id_hex: str) -> str:
    """The BLE address of the chip whose unique id (its MAC, 12 hex digits) is given."""
    return ":".join(unique_id_hex[i : i + 2] for i in range(0, 12, 2)).upper()


class InsoleRadio:
    """The controller of one insole (see the module docstring)."""

    def __init__(
        self,
        link: RadioLink,
        label: str,
        uart_path: Path,
        unique_id_hex: str,
        *,
        faults: RadioFaults | None = None,
        time_scale: int = 1,
    ) -> None:
        self.link = link
        self.label = label
        self.uart_path = uart_path
        self.address = insole_public_address(unique_id_hex)
        self.faults = faults or RadioFaults()
        self.time_scale = time_scale
        self.controller: TimedController | None = None
        self.counters = RadioCounters()  # over every boot
        self._transport: Any = None
        self._fault_task: asyncio.Task[None] | None = None
        self._fault_tasks: list[asyncio.Task[None]] = []
        self.calmed = False

    @property
    def env(self) -> dict[str, str]:
        return {UART_ENV: str(self.uart_path)}

    async def power_on(self) -> None:
        """A controller for the next boot of the firmware (which opens the UART on start)."""
        await self.power_off()
        self.uart_path.parent.mkdir(parents=True, exist_ok=True)
        self.uart_path.unlink(missing_ok=True)
        self._transport = await open_transport(f"pty:{self.uart_path}")
        controller = TimedController(
            self.label, link=self.link, host_source=self._transport.source,
            host_sink=self._transport.sink,
            public_address=hci.Address(self.address, hci.Address.PUBLIC_DEVICE_ADDRESS),
        )  # fmt: skip
        controller.counters = self.counters
        if self.faults.notify_loss and not self.calmed:
            self.link.set_notify_loss(controller, self.faults.notify_loss, self.faults.seed)
        self.controller = controller
        if self._fault_task is None and (self.faults.link_drops or self.faults.stalls):
            self._fault_task = asyncio.get_running_loop().create_task(self._run_faults())

    async def power_off(self) -> None:
        """The chip stops (a reset, the process ended): its links time out, its advertising
        stops, its controller goes."""
        controller = self.controller
        if controller is None:
            return
        self.controller = None
        controller.le_legacy_advertiser.stop()
        self.link.time_out_links(controller)
        with contextlib.suppress(KeyError):
            self.link.remove_controller(controller)
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
            self._transport = None

    async def close(self) -> None:
        for task in [self._fault_task, *self._fault_tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.power_off()

    def calm(self) -> None:
        """No more lost notifications from now on (the end of a run: the host asks again for
        a lost frame only when a newer one arrives, and after the last one none does)."""
        self.calmed = True
        if self.controller is not None:
            self.link.set_notify_loss(self.controller, 0.0, 0)

    # -- faults ------------------------------------------------------------------------------

    async def _run_faults(self) -> None:
        """Link drops and stalls, timed in insole seconds from the first connection."""
        while self.counters.connections == 0:
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        scale = self.time_scale
        events = [(at_s / scale, "drop", for_s / scale) for at_s, for_s in self.faults.link_drops]
        events += [(at_s / scale, "stall", for_s / scale) for at_s, for_s in self.faults.stalls]
        start_s = loop.time()
        for at_s, kind, for_s in sorted(events):
            await asyncio.sleep(max(0.0, start_s + at_s - loop.time()))
            fault = self._drop(for_s) if kind == "drop" else self._stall(for_s)
            self._fault_tasks.append(loop.create_task(fault))

    async def _drop(self, down_s: float) -> None:
        controller = self.controller
        if controller is not None:
            await self.link.out_of_reach(controller, down_s)

    async def _stall(self, for_s: float) -> None:
        controller = self.controller
        if controller is None:
            return
        self.link.stall(controller, True)
        try:
            await asyncio.sleep(for_s)
        finally:
            self.link.stall(controller, False)
