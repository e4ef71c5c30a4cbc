"""Simulated insole sessions: realistic per-foot pad pressures for named, labelled scenarios.

`build_scenario(name)` gives the plan and its labels; `SessionSimulator(scenario, seed=...)`
streams both feet as `PressureChunk`s (`chunks(chunk_s)`), seeded and deterministic. The
generator (numpy) is imported on first use, so the scenario names cost a help text nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from numbguard.simulate.scenarios import (
    NO_ALERT_SCENARIOS,
    SCENARIO_NAMES,
    Label,
    Scenario,
    build_scenario,
    describe_scenarios,
)

if TYPE_CHECKING:
    from numbguard.simulate.generator import SessionSimulator


def __getattr__(name: str) -> object:
    if name == "SessionSimulator":
        return importlib.import_module("numbguard.simulate.generator").SessionSimulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "NO_ALERT_SCENARIOS",
    "SCENARIO_NAMES",
    "Label",
    "Scenario",
    "SessionSimulator",
    "build_scenario",
    "describe_scenarios",
]
