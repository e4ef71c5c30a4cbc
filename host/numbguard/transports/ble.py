"""BLE transport over bleak."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner


@dataclass(frozen=True)
class BleakBackend:
    """bleak backend classes to inject with ``backend=`` (None = the platform's own).

    `kwargs` reach the backend classes as extra keyword arguments of `BleakScanner` and
    `BleakClient`.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
