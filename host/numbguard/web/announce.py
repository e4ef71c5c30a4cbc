"""The page's address in the terminal, with a QR code a phone's camera can open."""

from __future__ import annotations

from typing import TextIO

import segno

from numbguard.web.address import is_loopback
from numbguard.web.server import WebServer


def announce(server: WebServer, stream: TextIO) -> None:
    """One line with the address; off loopback also the QR code, and who can open it."""
    print(f"live page: {server.url}", file=stream)
    if is_loopback(server.host):
        print("(this computer only: --web-host 0.0.0.0 serves the local network)", file=stream)
        return
    segno.make(server.url, error="m").terminal(out=stream, compact=True)
    print("anyone on this network with this address (its token) can watch; "
          "--web-new-token replaces it", file=stream)  # fmt: skip
    stream.flush()
