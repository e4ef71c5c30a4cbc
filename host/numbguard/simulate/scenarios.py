"""Named simulated sessions: what the runner does, which risk patterns or faults appear when.

A scenario is a plan: activity segments (running, walking, standing, elliptical) and overlays
(a risk pattern or a sensor fault on one or both feet from an onset to an end), plus its
labels, the ground truth that `numbguard evaluate` scores against. Times scale with the
session length so a shorter session keeps the same story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from numbguard.errors import BadValue
from numbguard.pads import FOOT_IDS, Foot

ActivityName = Literal["running", "walking", "standing", "elliptical"]
FaultMode = Literal["open", "shorted", "implausible"]

RISK_PATTERNS = (
    "tight_lacing",
    "forefoot_overload",
    "metatarsal_hotspot",
    "unrelieved_pressure",
    "sensor_fault",
)


@dataclass(frozen=True)
class Segment:
    """One stretch of activity at a cadence (steps/min, both feet) and a load scale."""

    start_s: float
    end_s: float
    activity: ActivityName
    cadence_spm: float = 170.0
    load_scale: float = 1.0


@dataclass(frozen=True)
class Overlay:
    """A risk pattern or sensor fault on some feet from `onset_s` to `end_s`."""

    kind: str
    feet: tuple[Foot, ...]
    onset_s: float
    end_s: float
    pad: str = ""  # for sensor faults: the faulty pad
    fault: FaultMode = "open"


@dataclass(frozen=True)
class Label:
    """Ground truth: a condition of `kind` on `foot` from `onset_s` to `end_s`."""

    kind: str
    foot: Foot
    onset_s: float
    end_s: float
    advice: str = ""  # the suggestion that fits the cause, first in the alert ("" = any)

    def to_json(self) -> dict[str, str | float]:
        data: dict[str, str | float] = {
            "kind": self.kind,
            "foot": self.foot,
            "onset_s": self.onset_s,
            "end_s": self.end_s,
        }
        if self.advice:
            data["advice"] = self.advice
        return data


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    duration_s: float
    segments: tuple[Segment, ...]
    overlays: tuple[Overlay, ...] = ()
    heel: bool = True
    packet_loss_fraction: float = 0.0  # share of samples lost, in runs
    labels: tuple[Label, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.labels:
            labels = tuple(
                Label(o.kind, foot, o.onset_s, o.end_s) for o in self.overlays for foot in o.feet
            )
            object.__setattr__(self, "labels", labels)


def _at(d: float, fraction: float) -> float:
    """A time at `fraction` of the session, off the analysis window grid (as real onsets are)."""
    return round(fraction * d + 0.7, 1)


def _run(d: float, cadence_spm: float = 170.0) -> tuple[Segment, ...]:
    return (Segment(0.0, d, "running", cadence_spm),)


def _fault(d: float, foot: Foot, pad: str, mode: FaultMode, at: float) -> Overlay:
    return Overlay("sensor_fault", (foot,), _at(d, at), d, pad=pad, fault=mode)


def _crossing_stops(d: float) -> tuple[Segment, ...]:
    # Run, slow to a walk, wait at a crossing, run on; twice.
    cuts = [0.0, 0.25, 0.27, 0.38, 0.62, 0.64, 0.76, 1.0]
    kinds: list[tuple[ActivityName, float]] = [
        ("running", 168.0),
        ("walking", 112.0),
        ("standing", 0.0),
        ("running", 170.0),
        ("walking", 110.0),
        ("standing", 0.0),
        ("running", 172.0),
    ]
    return tuple(
        Segment(round(cuts[i] * d, 1), round(cuts[i + 1] * d, 1), kind, cadence)
        for i, (kind, cadence) in enumerate(kinds)
    )


def _pace_change(d: float) -> tuple[Segment, ...]:
    return (
        Segment(0.0, round(d / 3, 1), "running", 158.0, 0.95),
        Segment(round(d / 3, 1), round(2 * d / 3, 1), "running", 178.0, 1.12),
        Segment(round(2 * d / 3, 1), d, "running", 164.0, 1.0),
    )


def _elliptical(d: float) -> tuple[Segment, ...]:
    split = _at(d, 0.25)
    return (Segment(0.0, split, "running", 168.0), Segment(split, d, "elliptical", 130.0))


def _standing(d: float) -> tuple[Segment, ...]:
    a, b = _at(d, 0.3), _at(d, 0.7)
    return (
        Segment(0.0, a, "walking", 108.0),
        Segment(a, b, "standing", 0.0),
        Segment(b, d, "walking", 112.0),
    )


_BOTH = FOOT_IDS

_BUILDERS: dict[str, tuple[str, Callable[[float], Scenario]]] = {}


def _scenario(name: str, description: str) -> Callable[[Callable[[float], Scenario]], None]:
    def register(build: Callable[[float], Scenario]) -> None:
        _BUILDERS[name] = (description, build)

    return register


@_scenario("normal_run", "steady run at 170 steps/min, heel and forefoot pads")
def _(d: float) -> Scenario:
    return Scenario("normal_run", "", d, _run(d))


@_scenario("normal_run_no_heel", "steady run at 165 steps/min on an insole without a heel pad")
def _(d: float) -> Scenario:
    return Scenario("normal_run_no_heel", "", d, _run(d, 165.0), heel=False)


@_scenario("walking", "walking at 110 steps/min")
def _(d: float) -> Scenario:
    return Scenario("walking", "", d, (Segment(0.0, d, "walking", 110.0),))


@_scenario("standing", "walk, stand still for a while, walk on")
def _(d: float) -> Scenario:
    return Scenario("standing", "", d, _standing(d))


@_scenario("crossing_stops", "run with two stops at a crossing")
def _(d: float) -> Scenario:
    return Scenario("crossing_stops", "", d, _crossing_stops(d))


@_scenario("pace_change", "run at 158, then 178, then 164 steps/min")
def _(d: float) -> Scenario:
    return Scenario("pace_change", "", d, _pace_change(d))


@_scenario("packet_loss", "normal run with 4% of samples lost in runs")
def _(d: float) -> Scenario:
    return Scenario("packet_loss", "", d, _run(d), packet_loss_fraction=0.04)


@_scenario("tight_lacing", "left laces tightened mid-run")
def _(d: float) -> Scenario:
    return Scenario(
        "tight_lacing",
        "",
        d,
        _run(d),
        (Overlay("tight_lacing", ("left",), _at(d, 0.375), d),),
    )


@_scenario("tight_lacing_both", "both shoes laced too tight from the start, no heel pads")
def _(d: float) -> Scenario:
    overlay = Overlay("tight_lacing", _BOTH, 0.0, d)
    return Scenario("tight_lacing_both", "", d, _run(d, 160.0), (overlay,), heel=False)


@_scenario("tight_lacing_packet_loss", "right laces tightened mid-run, 4% packet loss")
def _(d: float) -> Scenario:
    overlay = Overlay("tight_lacing", ("right",), _at(d, 0.4), d)
    return Scenario(
        "tight_lacing_packet_loss", "", d, _run(d), (overlay,), packet_loss_fraction=0.04
    )


@_scenario("forefoot_overload", "right forefoot overloaded for a stretch mid-run, then relieved")
def _(d: float) -> Scenario:
    overlay = Overlay("forefoot_overload", ("right",), _at(d, 0.4), _at(d, 0.8))
    return Scenario("forefoot_overload", "", d, _run(d), (overlay,))


@_scenario("forefoot_overload_no_heel", "both forefeet overloaded mid-run, no heel pads")
def _(d: float) -> Scenario:
    overlay = Overlay("forefoot_overload", _BOTH, _at(d, 0.35), d)
    return Scenario("forefoot_overload_no_heel", "", d, _run(d, 176.0), (overlay,), heel=False)


@_scenario("metatarsal_hotspot", "left forefoot load narrows onto the lateral pad mid-run")
def _(d: float) -> Scenario:
    overlay = Overlay("metatarsal_hotspot", ("left",), _at(d, 0.375), d)
    return Scenario("metatarsal_hotspot", "", d, _run(d), (overlay,))


@_scenario("asymmetry", "the runner starts favouring the left foot: the right carries more")
def _(d: float) -> Scenario:
    overlay = Overlay("asymmetry", ("right",), _at(d, 0.4), d)
    return Scenario("asymmetry", "", d, _run(d), (overlay,))


@_scenario("unrelieved_pressure", "warm-up run, then an elliptical trainer")
def _(d: float) -> Scenario:
    segments = _elliptical(d)
    overlay = Overlay("unrelieved_pressure", _BOTH, segments[1].start_s, d)
    return Scenario("unrelieved_pressure", "", d, segments, (overlay,))


@_scenario("sensor_fault_open", "left centre forefoot pad disconnects mid-run")
def _(d: float) -> Scenario:
    return Scenario(
        "sensor_fault_open", "", d, _run(d), (_fault(d, "left", "ball_center", "open", 0.3),)
    )


@_scenario("sensor_fault_shorted", "right upper lace pad shorts to full scale mid-run")
def _(d: float) -> Scenario:
    overlay = _fault(d, "right", "lace_upper", "shorted", 0.35)
    return Scenario("sensor_fault_shorted", "", d, _run(d), (overlay,))


@_scenario("sensor_fault_implausible", "left lateral forefoot pad gives implausible readings")
def _(d: float) -> Scenario:
    overlay = _fault(d, "left", "ball_lateral", "implausible", 0.3)
    return Scenario("sensor_fault_implausible", "", d, _run(d), (overlay,))


SCENARIO_NAMES: tuple[str, ...] = tuple(_BUILDERS)
NO_ALERT_SCENARIOS: tuple[str, ...] = (
    "normal_run",
    "normal_run_no_heel",
    "walking",
    "standing",
    "crossing_stops",
    "pace_change",
    "packet_loss",
)
DEFAULT_DURATION_S = 240.0


def build_scenario(name: str, duration_s: float = DEFAULT_DURATION_S) -> Scenario:
    """The scenario `name` lasting `duration_s` seconds."""
    if name not in _BUILDERS:
        raise BadValue(
            "unknown scenario",
            expected="one of " + ", ".join(SCENARIO_NAMES),
            got=repr(name),
            name="scenario",
        )
    if not (duration_s >= 30.0 and duration_s < 1e6):
        raise BadValue(
            "bad session length",
            expected="a duration of at least 30 s",
            got=repr(duration_s),
            name="duration_s",
        )
    description, build = _BUILDERS[name]
    return replace(build(float(duration_s)), description=description)


def describe_scenarios() -> dict[str, str]:
    """Scenario name -> one-line description."""
    return {name: description for name, (description, _build) in _BUILDERS.items()}
