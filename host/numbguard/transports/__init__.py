"""Transports chosen by URL: ``open_transport("ble://")``, ``open_transport("serial:///dev/ttyUSB0")``.

Every transport is an async context manager that yields `FrameEvent`s (see `base`). To add one,
write a module with ``from_url(url, **options) -> Transport`` (a `Transport` that makes one
`InsoleLink` per insole with `_new_link`) and add its scheme to `SCHEMES` with the URL forms
it accepts; the module is imported only when its scheme is used, so the serial path never
imports bleak and the host never imports the lab. The base types are re-exported lazily too:
`url_forms()` (a help text) costs no protocol or numpy import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from numbguard.errors import BadUrl

if TYPE_CHECKING:
    from numbguard.transports.base import FrameEvent, InsoleIdentity, Transport


@dataclass(frozen=True)
class Scheme:
    module: str  # module with from_url(url, **options) -> Transport
    forms: tuple[str, ...]  # the URL forms it accepts, for help texts and errors


SCHEMES: Final[dict[str, Scheme]] = {
    "ble": Scheme(
        "numbguard.transports.ble",
        (
            "ble://  (the paired insoles, or the first left and right found)",
            "ble://AA:BB:CC:DD:EE:FF,11:22:33:44:55:66  (these addresses)",
            "ble://?pair=1  (pair new insoles and remember them)",
        ),
    ),
    "serial": Scheme(
        "numbguard.transports.serial",
        (
            "serial:///dev/ttyUSB0",
            "serial:///dev/ttyUSB0,/dev/ttyUSB1  (both insoles)",
            "serial:///dev/ttyACM0?baud=921600",
        ),
    ),
    "replay": Scheme(
        "numbguard.transports.replay",
        (
            "replay://session.ngrec  (as recorded)",
            "replay://session.ngrec?speed=10  (or speed=max)",
        ),
    ),
    "sim": Scheme(
        "numbguard.transports.sim",
        ("sim://normal_run  (a simulated pair of insoles; any scenario of `numbguard simulate`)",
         "sim://tight_lacing?speed=20&seed=0&duration_s=120&loss=0.1"),
    ),
}


def url_forms() -> list[str]:
    return [form for scheme in SCHEMES.values() for form in scheme.forms]


def open_transport(url: str, **options: Any) -> Transport:
    """The transport for `url` (not yet open: use it with ``async with``).

    `options` reach the transport's ``from_url``, e.g. ``backend=`` for ble.
    """
    scheme_name = urlsplit(url).scheme
    scheme = SCHEMES.get(scheme_name)
    if scheme is None or "://" not in url:
        raise BadUrl(
            "not a transport URL",
            expected="one of: " + "; ".join(url_forms()),
            got=repr(url),
            url=url,
        )
    module = importlib.import_module(scheme.module)
    transport: Transport = module.from_url(url, **options)
    return transport


def __getattr__(name: str) -> object:
    if name in ("FrameEvent", "InsoleIdentity", "Transport"):
        return getattr(importlib.import_module("numbguard.transports.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SCHEMES", "FrameEvent", "InsoleIdentity", "Scheme", "Transport", "open_transport"]
