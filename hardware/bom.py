"""Check hardware/bom.csv against the netlist and total it.

    python hardware/bom.py   # prints the totals and writes bom.md

Every part of circuit.toml is in exactly one BOM row with the same part number; a row's
quantity is its number of references (rows without references, "-", are mechanical parts).
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from netlist import HARDWARE_DIR, Circuit, load_circuit

BOM_CSV = HARDWARE_DIR / "bom.csv"
SENSOR_REF = re.compile(r"S\d+")  # S1..S6; SW1.. are switches


class BomError(ValueError):
    pass


@dataclass(frozen=True)
class BomRow:
    refs: tuple[str, ...]
    qty: int
    manufacturer: str
    mpn: str
    description: str
    unit_cost_usd: float

    @property
    def cost_usd(self) -> float:
        return self.qty * self.unit_cost_usd


def read_bom(path: Path = BOM_CSV) -> list[BomRow]:
    rows = []
    with path.open(newline="", encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            try:
                qty, cost = int(row["qty"]), float(row["unit_cost_usd"])
            except (TypeError, ValueError) as error:
                raise BomError(f"bom.csv line {line}: bad qty or cost ({error})") from None
            if qty <= 0 or cost <= 0:
                raise BomError(f"bom.csv line {line}: qty and cost must be above 0")
            refs = tuple(row["refs"].split()) if row["refs"].strip() != "-" else ()
            rows.append(
                BomRow(refs, qty, row["manufacturer"], row["mpn"], row["description"], cost)
            )
    return rows


def check_bom(rows: list[BomRow], circuit: Circuit) -> None:
    """Raise `BomError` naming the first disagreement between BOM and netlist."""
    listed: dict[str, BomRow] = {}
    for row in rows:
        if row.refs and row.qty != len(row.refs):
            raise BomError(f"{row.mpn}: qty {row.qty} but {len(row.refs)} references")
        for ref in row.refs:
            if ref in listed:
                raise BomError(f"{ref} is in the BOM twice")
            listed[ref] = row
    for part in circuit.parts:
        if part.ref not in listed:
            raise BomError(f"{part.ref} ({part.mpn}) is missing from the BOM")
        if listed[part.ref].mpn != part.mpn:
            raise BomError(f"{part.ref}: BOM says {listed[part.ref].mpn}, netlist {part.mpn}")
    extra = sorted(set(listed) - {part.ref for part in circuit.parts})
    if extra:
        raise BomError(f"BOM references not in the netlist: {extra}")


def total_usd(rows: list[BomRow]) -> float:
    return round(sum(row.cost_usd for row in rows), 2)


def summary_markdown(rows: list[BomRow]) -> str:
    sensors = sum(row.cost_usd for row in rows if row.refs and SENSOR_REF.fullmatch(row.refs[0]))
    electronics = sum(row.cost_usd for row in rows if row.refs) - sensors
    mechanical = sum(row.cost_usd for row in rows if not row.refs)
    one = total_usd(rows)
    return (
        "| | USD per insole |\n|---|---|\n"
        f"| sensors (4 x A201-25, 2 x FSR 402) | {sensors:.2f} |\n"
        f"| electronics (board, cell, connectors) | {electronics:.2f} |\n"
        f"| mechanical (PCB, spreaders, insole, cables, pod) | {mechanical:.2f} |\n"
        f"| **total, one insole** | **{one:.2f}** |\n"
        f"| **total, a pair** | **{2 * one:.2f}** |\n"
    )


def main() -> int:
    rows = read_bom()
    check_bom(rows, load_circuit())
    text = summary_markdown(rows)
    (HARDWARE_DIR / "bom.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
