"""The disconnect IRQ between reading the link and notifying it (firmware/ble.py `_notify`).

On the ESP32 NimBLE's IRQ handlers run on another task, so a central's disconnect can land
between any two bytecodes of the sender. Reading the connection twice then hands
`gatts_notify` None, and the real module raises TypeError, which `except OSError` misses: the
sender task died and the insole streamed no more. Here, on the real `bluetooth` module
(``micropython-nimble``, its HCI on a lab controller), the disconnect IRQ runs right after the
firmware reads the trusted link, for data and for status notifications.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Final

from fw_harness import MICROPYPATH

from numbguard_lab.insole_radio import InsoleRadio
from numbguard_lab.radio_link import RadioLink

UNIQUE_ID_HEX: Final = "240ac4a1b2c3"  # the simulated machine's default
RUN_TIMEOUT_S: Final = 60.0

SCRIPT = """
import json, bluetooth
from ble import Peripheral, _Link
from bonds import Bonds

_IRQ_CENTRAL_DISCONNECT = 2

class DisconnectAfterARead(Peripheral):
    # Once armed, the central's disconnect IRQ runs right after the next read of the trusted
    # link, before the firmware's next bytecode, as it can on the ESP32.
    armed = False

    @property
    def trusted_conn(self):
        conn = self._trusted
        if self.armed:
            self.armed = False
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, bytes(6)))
        return conn

    @trusted_conn.setter
    def trusted_conn(self, conn):
        self._trusted = conn

peripheral = DisconnectAfterARead(bluetooth, "NGL-b2c3", "numbguard", "a1b2c3", "0.1.0",
                                  Bonds())
result = {}
for what, send in (("data", peripheral.send_data), ("status", peripheral.send_status)):
    peripheral.links[0] = _Link(bytes(7))  # a trusted central on handle 0
    peripheral.trusted_conn = 0
    peripheral.armed = True
    try:
        result[what] = send(b"frame")
    except Exception as error:
        result[what] = "raised " + type(error).__name__
    result[what + "_link_after"] = peripheral.trusted_conn
    result[what + "_irq_ran"] = not peripheral.armed
# What reading the link twice would do: the real module given no connection.
try:
    peripheral._ble.gatts_notify(None, peripheral.data_handle, b"frame")
    result["none_handle"] = "accepted"
except TypeError:
    result["none_handle"] = "TypeError"
except OSError:
    result["none_handle"] = "OSError"
print(json.dumps(result))
"""


async def _run(binary: str, workdir: Path) -> dict[str, object]:
    radio = InsoleRadio(RadioLink(), "race", workdir / "uart", UNIQUE_ID_HEX)
    await radio.power_on()
    try:
        script = workdir / "race.py"
        script.write_text(textwrap.dedent(SCRIPT))
        process = await asyncio.create_subprocess_exec(
            binary, str(script), cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, MICROPYPATH=MICROPYPATH, **radio.env),
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
        assert process.returncode == 0, (stdout, stderr)
        result: dict[str, object] = json.loads(stdout.decode().strip().splitlines()[-1])
        return result
    finally:
        await radio.close()


def test_a_disconnect_inside_the_notify_leaves_the_sender_running(
    nimble_bin: str, tmp_path: Path
) -> None:
    result = asyncio.run(_run(nimble_bin, tmp_path))
    # The call went to the handle read once, now stale: refused, kept for later, no raise.
    assert result["data_irq_ran"] and result["status_irq_ran"]
    assert result["data"] is False and result["status"] is False
    # The IRQ ran: the link is no longer trusted, so nothing more is sent to it.
    assert result["data_link_after"] is None and result["status_link_after"] is None
    # And the class of error the single read avoids is real on this module.
    assert result["none_handle"] == "TypeError"
