"""The insoles this host has paired with, remembered by identity (insole id from status page 0).

A small JSON file, one entry per foot: ``{"left": {"insole_id": ..., "address": ..., "name":
...}, ...}``. The BLE transport connects only to a remembered insole's address and, once
connected, checks the insole id it reports, so a device that merely advertises the right
name is never used.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from numbguard.errors import BadFile
from numbguard.pads import FOOT_IDS, Foot
from numbguard.private_files import write_private_text


@dataclass(frozen=True)
class PairedInsole:
    foot: Foot
    insole_id: int
    address: str
    name: str


def default_registry_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "numbguard" / "paired-insoles.json"


class PairingRegistry:
    """Paired insoles by foot, kept in `path` (None: in memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._by_foot: dict[Foot, PairedInsole] = {}
        if path is not None and path.exists():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            entries = json.loads(path.read_text())
            for foot, entry in entries.items():
                if foot not in FOOT_IDS:
                    raise ValueError(f"unknown foot {foot!r}")
                self._by_foot[foot] = PairedInsole(
                    foot=foot, insole_id=int(entry["insole_id"]), address=str(entry["address"]),
                    name=str(entry["name"]),
                )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BadFile(
                "unreadable paired-insoles file",
                path=path,
                expected='{"left": {"insole_id": N, "address": "...", "name": "..."}, ...}',
                got=str(error),
            ) from error

    def get(self, foot: Foot) -> PairedInsole | None:
        return self._by_foot.get(foot)

    def __bool__(self) -> bool:
        return bool(self._by_foot)

    def remember(self, insole: PairedInsole) -> None:
        self._by_foot[insole.foot] = insole
        self._save()

    def forget_all(self) -> None:
        self._by_foot.clear()
        self._save()

    def forget(self, foot: Foot) -> None:
        if self._by_foot.pop(foot, None) is not None:
            self._save()

    def paired_at(self, address: str) -> PairedInsole | None:
        """The paired insole at this BLE address, if any."""
        return next(
            (p for p in self._by_foot.values() if p.address.upper() == address.upper()), None
        )

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({foot: asdict(p) for foot, p in self._by_foot.items()}, indent=2)
        write_private_text(self.path, text)
