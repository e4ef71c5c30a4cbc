"""How long the BLE transport looks for the insoles, apart from `ble` so that a command's
`--help` can show it without importing bleak."""

from __future__ import annotations

from typing import Final

DEFAULT_SCAN_TIMEOUT_S: Final = 10.0
