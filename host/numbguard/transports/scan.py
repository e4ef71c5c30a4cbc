"""Finding insoles on the air: every advertiser of the numbguard service, and what it claims."""

from __future__ import annotations

from dataclasses import dataclass

from numbguard.pads import Foot
from numbguard.transports.ble import BleakBackend, BleTransport, Candidate, parse_insole_name
from numbguard.transports.pairing import PairingRegistry


@dataclass(frozen=True)
class FoundInsole:
    address: str
    name: str
    foot: Foot | None  # None: the name is not NGL-xxxx / NGR-xxxx
    id_low16: int | None
    rssi_dbm: int
    paired: bool  # the registry remembers this address for that foot
    not_used_because: str  # empty when `numbguard run` would connect to it


async def scan_insoles(
    timeout_s: float = 5.0,
    *,
    backend: BleakBackend | None = None,
    registry: PairingRegistry | None = None,
) -> list[FoundInsole]:
    """Advertisers of the numbguard service heard within `timeout_s`, strongest first, with
    what `numbguard run` (the BLE transport's own judgement) would make of each."""
    registry = registry if registry is not None else PairingRegistry(None)
    transport = BleTransport("ble://", backend=backend, registry=registry, scan_timeout_s=timeout_s)
    found: list[FoundInsole] = []
    for address, (name, rssi_dbm, verdict) in (await transport.discover()).items():
        parsed = parse_insole_name(name)
        foot, id_low16 = parsed if parsed is not None else (None, None)
        paired_insole = registry.get(foot) if foot is not None else None
        paired = paired_insole is not None and paired_insole.address.upper() == address.upper()
        reason = "" if isinstance(verdict, Candidate) else verdict
        found.append(FoundInsole(address, name or "", foot, id_low16, rssi_dbm, paired, reason))
    return sorted(found, key=lambda insole: -insole.rssi_dbm)
