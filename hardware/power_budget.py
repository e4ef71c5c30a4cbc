"""Power budget per state and battery life for the chosen cell.

    python hardware/power_budget.py   # prints and writes power_budget.md

Currents are estimates from datasheets (power_budget.csv says which); measure a built insole
with a USB power meter or a uCurrent and replace them. The firmware's behaviour this assumes:
sample + advertise until a host connects, stream while connected, keep sampling for
HOST_GONE_MIN minutes after the host left (a short drop is not the end of a run), then drop to
`idle` (no sampling, pad supply off, slow advertising), and deep sleep after
IDLE_TO_SLEEP_MIN minutes of idle, woken by the button on WAKE_PIN. firmware/power.py does
this; its defaults (config.py) are checked against these figures in tests/firmware.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HARDWARE_DIR = Path(__file__).resolve().parent
BUDGET_CSV = HARDWARE_DIR / "power_budget.csv"
STATES = ("sampling_advertising", "connected_streaming", "idle", "deep_sleep")

CELL_MAH = 400.0  # LP502535
USABLE_FRACTION = 0.85
"""Above ~3.45 V the LDO holds 3.3 V, so the ratiometric counts stay true: ~85 % of a LiPo."""
HOST_GONE_MIN = 2.0
IDLE_TO_SLEEP_MIN = 15.0
BEFORE_RUN_MIN = 5.0

DAY_PROFILE_H = {
    # A runner's day: one hour's run, the minutes around it, the rest asleep.
    "sampling_advertising": (BEFORE_RUN_MIN + HOST_GONE_MIN) / 60,
    "connected_streaming": 1.0,
    "idle": IDLE_TO_SLEEP_MIN / 60,
}


def state_currents_ma(path: Path = BUDGET_CSV) -> dict[str, float]:
    totals = dict.fromkeys(STATES, 0.0)
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["state"] not in totals:
                raise ValueError(f"unknown state {row['state']!r}, expected one of {STATES}")
            totals[row["state"]] += float(row["current_ma"])
    return totals


def usable_mah() -> float:
    return CELL_MAH * USABLE_FRACTION


def day_mah(currents: dict[str, float]) -> float:
    awake_h = sum(DAY_PROFILE_H.values())
    charge = sum(currents[state] * hours for state, hours in DAY_PROFILE_H.items())
    return charge + currents["deep_sleep"] * (24.0 - awake_h)


def summary_markdown() -> str:
    currents = state_currents_ma()
    lines = [
        f"Cell: LiPo {CELL_MAH:.0f} mAh, {USABLE_FRACTION:.0%} usable = {usable_mah():.0f} mAh.",
        "",
        "| state | current | battery life in that state |",
        "|---|---|---|",
    ]
    for state in STATES:
        hours = usable_mah() / currents[state]
        life = f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"
        lines.append(f"| {state} | {currents[state]:.3g} mA | {life} |")
    per_day = day_mah(currents)
    lines += [
        "",
        f"A day with a 1 h run ({BEFORE_RUN_MIN:g} min sampling and advertising before it and "
        f"{HOST_GONE_MIN:g} min after the host left, 1 h streaming, {IDLE_TO_SLEEP_MIN:g} min "
        f"idle, the rest in deep sleep) takes {per_day:.1f} mAh: "
        f"{usable_mah() / per_day:.1f} days per charge.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    text = summary_markdown()
    (HARDWARE_DIR / "power_budget.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
