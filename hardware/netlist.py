"""Read hardware/circuit.toml (the board's netlist) and check it is well formed.

Used by the schematic drawing (schematic.py), the BOM check (bom.py) and tests/hardware.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HARDWARE_DIR = Path(__file__).resolve().parent
CIRCUIT_TOML = HARDWARE_DIR / "circuit.toml"
TWO_PIN_KINDS = ("resistor", "capacitor", "led", "fsr", "battery", "switch", "button")
MULTI_PIN_KINDS = ("module", "ic", "connector", "pmos", "npn")


class CircuitError(ValueError):
    pass


@dataclass(frozen=True)
class Part:
    ref: str
    kind: str
    value: str
    mpn: str
    block: str
    pins: dict[str, str]
    ohms: float | None = None

    @property
    def nets(self) -> frozenset[str]:
        return frozenset(self.pins.values())


@dataclass(frozen=True)
class Circuit:
    title: str
    revision: str
    parts: tuple[Part, ...]

    def part(self, ref: str) -> Part:
        return next(part for part in self.parts if part.ref == ref)

    def between(self, net_a: str, net_b: str, kind: str) -> list[Part]:
        """Two-pin parts of `kind` that join these two nets."""
        return [p for p in self.parts if p.kind == kind and p.nets == {net_a, net_b}]

    def blocks(self) -> list[str]:
        return list(dict.fromkeys(part.block for part in self.parts))


def load_circuit(path: Path = CIRCUIT_TOML) -> Circuit:
    with path.open("rb") as file:
        data = tomllib.load(file)
    parts = tuple(
        Part(
            ref=entry["ref"],
            kind=entry["kind"],
            value=entry["value"],
            mpn=entry["mpn"],
            block=entry["block"],
            pins=dict(entry["pins"]),
            ohms=entry.get("ohms"),
        )
        for entry in data["part"]
    )
    circuit = Circuit(data["title"], data["revision"], parts)
    check_circuit(circuit)
    return circuit


def check_circuit(circuit: Circuit) -> None:
    """Raise `CircuitError` naming the first flaw: repeated refs, bad pins, dangling nets."""
    refs = Counter(part.ref for part in circuit.parts)
    repeated = sorted(ref for ref, count in refs.items() if count > 1)
    if repeated:
        raise CircuitError(f"reference used more than once: {repeated}")
    for part in circuit.parts:
        if part.kind in TWO_PIN_KINDS:
            if set(part.pins) != {"1", "2"}:
                raise CircuitError(f"{part.ref}: a {part.kind} has pins 1 and 2")
        elif part.kind not in MULTI_PIN_KINDS:
            raise CircuitError(f"{part.ref}: unknown kind {part.kind!r}")
        if part.kind == "resistor" and not (part.ohms and part.ohms > 0):
            raise CircuitError(f"{part.ref}: a resistor needs its ohms")
    pins_on_net = Counter(net for part in circuit.parts for net in part.pins.values())
    dangling = sorted(net for net, count in pins_on_net.items() if count < 2)
    if dangling:
        raise CircuitError(f"nets with a single pin (not connected to anything): {dangling}")
