"""Where the live page is served by default, and which addresses only this computer reaches."""

from __future__ import annotations

import ipaddress
from typing import Final

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765


def is_loopback(host: str) -> bool:
    """True for an address only this computer can reach; a name other than localhost is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
