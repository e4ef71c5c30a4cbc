"""Draw the board's schematic from hardware/circuit.toml (needs schemdraw).

    python hardware/schematic.py   # writes schematic.svg and schematic.png

Each block of the netlist is one row: two-pin parts stand between their two nets, multi-pin
parts are boxes whose pins end in net labels. Same net name = connected, as on any schematic
sheet; nothing is drawn by hand, so the drawing cannot drift from the netlist.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netlist import HARDWARE_DIR, Circuit, Part, load_circuit

TWO_PIN_SPACING = 3.4
TWO_PIN_HEIGHT = 5.0


def _two_pin(elm: object, part: Part, x: float, y: float) -> None:
    import schemdraw.elements as e

    shapes = {
        "resistor": e.Resistor,
        "capacitor": e.Capacitor,
        "led": e.LED,
        "fsr": e.ResistorVar,
        "battery": e.BatteryCell,
        "switch": e.Switch,
        "button": e.Button,
    }
    element = (
        shapes[part.kind]()
        .down()
        .at((x, y))
        .label(f"{part.ref}\n{part.value}", loc="bottom", fontsize=7, ofst=0.15)
    )
    e.Label().at(element.start).label(part.pins["1"], loc="top", fontsize=7)
    e.Label().at(element.end).label(part.pins["2"], loc="bottom", fontsize=7)


def _box(part: Part, x: float, y: float) -> float:
    import schemdraw.elements as e

    names = list(part.pins)
    half = (len(names) + 1) // 2
    pins = [
        e.IcPin(name=name, side="left" if i < half else "right") for i, name in enumerate(names)
    ]
    box = (
        e.Ic(
            pins=pins,
            pinspacing=0.7,
            edgepadW=1.6,
            leadlen=0.4,
        )
        .label(f"{part.ref}  {part.value}  {part.mpn}", loc="bottom", fontsize=7)
        .theta(0)
        .at((x + 5.0, y))
        .anchor("center")
    )
    for i, name in enumerate(names):
        side = -1 if i < half else 1
        e.Line().at(box.absanchors[name]).length(0.6).theta(0 if side > 0 else 180).label(
            part.pins[name], loc="right" if side > 0 else "left", fontsize=7
        )
    return 15.0


def _box_height(part: Part) -> float:
    return (len(part.pins) + 1) // 2 * 0.7 + 2.0


def _is_box(part: Part) -> bool:
    return len(part.pins) != 2 or part.kind == "connector"


def draw(circuit: Circuit, path: Path, backend: str) -> None:
    import schemdraw
    import schemdraw.elements as e

    schemdraw.use(backend)  # "svg": schemdraw's own writer, byte-stable; "matplotlib": PNG

    with schemdraw.Drawing(show=False, fontsize=8) as drawing:
        e.Label().at((0, 2.0)).label(
            f"{circuit.title}, revision {circuit.revision}", fontsize=12, halign="left"
        )
        top = 0.0
        for block in circuit.blocks():
            members = [p for p in circuit.parts if p.block == block]
            height = max([TWO_PIN_HEIGHT] + [_box_height(p) for p in members if _is_box(p)])
            e.Label().at((0, top)).label(block, fontsize=10, halign="left", color="#1f5fa0")
            y = top - 1.5
            x = 1.0
            for part in (p for p in members if not _is_box(p)):
                _two_pin(e, part, x, y)
                x += TWO_PIN_SPACING
            for part in (p for p in members if _is_box(p)):
                x += _box(part, x + 2.0, y - height / 2 + 0.5)
            top -= height + 2.5
        drawing.save(str(path), dpi=90)


def main() -> int:
    circuit = load_circuit()
    draw(circuit, HARDWARE_DIR / "schematic.svg", "svg")
    draw(circuit, HARDWARE_DIR / "schematic.png", "matplotlib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
