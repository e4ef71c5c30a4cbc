"""Simulated insole sessions: realistic per-foot pad pressures for named, labelled scenarios.

`build_scenario(name)` gives the plan and its labels; `SessionSimulator(scenario, seed=...)`
streams both feet as `PressureChunk`s (`chunks(chunk_s)`), seeded and deterministic.
"""

from numbguard.simulate.generator import SessionSimulator
from numbguard.simulate.scenarios import (
    NO_ALERT_SCENARIOS,
    SCENARIO_NAMES,
    Label,
    Scenario,
    build_scenario,
    describe_scenarios,
)

__all__ = [
    "NO_ALERT_SCENARIOS",
    "SCENARIO_NAMES",
    "Label",
    "Scenario",
    "SessionSimulator",
    "build_scenario",
    "describe_scenarios",
]
