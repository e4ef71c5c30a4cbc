"""Simulated insole sessions: realistic per-foot pad pressures for named, labelled scenarios.

`build_scenario(name)` gives the plan and its labels; `SessionSimulator(scenario, seed=...)`
streams both feet as `PressureChunk`s (`chunks(chunk_s)`), seeded and deterministic.

The field set (`FIELD_NAMES`, `build_field_scenario`, `FieldSimulator`) is a second,
physical model for scoring the rules on sessions shaped like real ones (docs/evaluation.md).
"""

from numbguard.simulate.field import FIELD_NAMES, build_field_scenario
from numbguard.simulate.field_simulator import FieldSimulator
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
    "FIELD_NAMES",
    "NO_ALERT_SCENARIOS",
    "SCENARIO_NAMES",
    "FieldSimulator",
    "Label",
    "Scenario",
    "SessionSimulator",
    "build_field_scenario",
    "build_scenario",
    "describe_scenarios",
]
