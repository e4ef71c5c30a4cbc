"""Bluetooth missing as a whole: one line saying what is missing and how to fix it, exit code 2,
no traceback, and no recording left by a run that received nothing.

No system bus and no bluetoothd are real here (a bus address with no socket; a private
dbus-daemon with no org.bluez on it) and go through bleak's real BlueZ backend. No adapter,
an adapter powered off or blocked, and a denied bus are made at the boundary: the exceptions
bleak 3.1's BlueZ manager raises for them, and an rfkill tree laid out as the kernel's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)
from bluez_model import private_system_bus

from numbguard.transports.ble_availability import bluetooth_unavailable, rfkill_block


def _numbguard(env_bus: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=env_bus)
    return subprocess.run(
        [sys.executable, "-m", "numbguard", *args], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=60, check=False,
    )  # fmt: skip


def _one_clear_line(done: subprocess.CompletedProcess[str], command: str, problem: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"numbguard {command}: Bluetooth is not available: {problem}")


@pytest.fixture(scope="module")
def bus_without_bluez(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A system-type D-Bus with nobody owning org.bluez: bluetoothd is not running."""
    with private_system_bus(tmp_path_factory.mktemp("bus")) as address:
        yield address


@pytest.mark.parametrize(
    "args", [("scan", "--timeout-s", "1"), ("pair",), ("forget",), ("calibrate", "ble://")]
)
def test_no_system_bus_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    missing = f"unix:path={tmp_path / 'no-such-socket'}"
    # forget first needs a paired insole to ask: this computer remembers one.
    registry = tmp_path / "config" / "numbguard" / "paired-insoles.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(
        '{"left": {"insole_id": 439398880, "address": "24:0A:1A:B0:B1:E0", "name": "NGL-b1e0"}}'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    done = _numbguard(missing, *args, cwd=tmp_path)
    _one_clear_line(done, args[0], "there is no D-Bus system bus")


def test_a_run_without_bluetooth_leaves_no_recording(tmp_path: Path) -> None:
    missing = f"unix:path={tmp_path / 'no-such-socket'}"
    recording = tmp_path / "sessions" / "run.ngrec"
    done = _numbguard(missing, "run", "ble://", "--record", str(recording), cwd=tmp_path)
    _one_clear_line(done, "run", "there is no D-Bus system bus")
    assert not recording.exists()
    # The default place too: nothing left in the sessions folder.
    sessions = tmp_path / "default-sessions"
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=missing, NUMBGUARD_SESSIONS_DIR=str(sessions))
    done = subprocess.run(
        [sys.executable, "-m", "numbguard", "run"], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    _one_clear_line(done, "run", "there is no D-Bus system bus")
    assert not sessions.exists() or not any(sessions.iterdir())


def test_bluetoothd_not_running_is_one_line(tmp_path: Path, bus_without_bluez: str) -> None:
    done = _numbguard(bus_without_bluez, "scan", "--timeout-s", "1", cwd=tmp_path)
    _one_clear_line(done, "scan", "bluetoothd (the Bluetooth service) is not running")
    assert "systemctl start bluetooth" in done.stderr
    recording = tmp_path / "run.ngrec"
    done = _numbguard(bus_without_bluez, "run", "--record", str(recording), cwd=tmp_path)
    _one_clear_line(done, "run", "bluetoothd (the Bluetooth service) is not running")
    assert not recording.exists()


def _rfkill(root: Path, *radios: tuple[str, int, int]) -> Path:
    """An rfkill tree as /sys/class/rfkill lays it out: type, soft, hard per radio."""
    for index, (kind, soft, hard) in enumerate(radios):
        radio = root / f"rfkill{index}"
        radio.mkdir(parents=True)
        (radio / "type").write_text(kind + "\n")
        (radio / "soft").write_text(f"{soft}\n")
        (radio / "hard").write_text(f"{hard}\n")
    return root


@pytest.mark.parametrize(
    ("reason", "case", "words"),
    [
        (BleakBluetoothNotAvailableReason.NO_BLUETOOTH, "no-adapter", "no Bluetooth adapter"),
        (BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE, "no-adapter", "LE central"),
        (BleakBluetoothNotAvailableReason.POWERED_OFF, "powered-off", "bluetoothctl power on"),
        (BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM, "no-permission", "denied"),
        (BleakBluetoothNotAvailableReason.UNKNOWN, "unknown", "bluetoothctl show"),
    ],
)
def test_bleaks_not_available_reasons_say_what_to_do(
    tmp_path: Path, reason: BleakBluetoothNotAvailableReason, case: str, words: str
) -> None:
    error = bluetooth_unavailable(
        BleakBluetoothNotAvailableError("as bleak words it", reason), rfkill_dir=tmp_path
    )
    assert error is not None and error.reason == case
    assert words in str(error) and "\n" not in str(error)


def test_a_blocked_radio_says_so_and_how_to_unblock(tmp_path: Path) -> None:
    off = BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF)
    soft = _rfkill(tmp_path / "soft", ("wlan", 0, 0), ("bluetooth", 1, 0))
    error = bluetooth_unavailable(off, rfkill_dir=soft)
    assert error is not None and error.reason == "blocked" and "rfkill unblock" in str(error)
    hard = _rfkill(tmp_path / "hard", ("bluetooth", 1, 1))
    error = bluetooth_unavailable(off, rfkill_dir=hard)
    assert error is not None and error.reason == "blocked" and "switch" in str(error)
    # One radio free is enough: the adapter is merely off.
    mixed = _rfkill(tmp_path / "mixed", ("bluetooth", 1, 0), ("bluetooth", 0, 0))
    assert rfkill_block(mixed) is None
    error = bluetooth_unavailable(off, rfkill_dir=mixed)
    assert error is not None and error.reason == "powered-off"


def test_dbus_errors_and_others() -> None:
    not_ready = bluetooth_unavailable(BleakDBusError("org.bluez.Error.NotReady", []))
    assert not_ready is not None and not_ready.reason in ("powered-off", "blocked")
    denied = bluetooth_unavailable(BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []))
    assert denied is not None and denied.reason == "no-permission"
    no_bus = bluetooth_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert no_bus is not None and no_bus.reason == "no-system-bus"
    assert bluetooth_unavailable(PermissionError(13, "denied")) is not None
    # About an insole, not about Bluetooth: left to the transport's own message.
    failed = BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])
    assert bluetooth_unavailable(failed) is None
    assert bluetooth_unavailable(BleakError("device disconnected")) is None
