"""The field set: labelled sessions of the kind real runners record, for `numbguard evaluate`.

Each plan is a sequence of stretches (running or walking at a speed and grade, standing, calf
raises, weight shifts, elliptical, stair machine) and changes (a risk pattern or a sensor
fault on one foot from an onset). Its labels are the ground truth: the alert kind each
condition should raise, on which foot, from when, and the advice it calls for. A session
without labels is normal: any alert in it is a false alert.

The sessions are rendered by `numbguard.simulate.field_simulator` with the physical model and
sensor chain of `physical` and `sensor_chain`; their lengths are fixed (several minutes, long
enough for warm-up, drift and each condition to show).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from numbguard.analysis.suggestions import fault_advice
from numbguard.errors import BadValue
from numbguard.pads import Foot
from numbguard.simulate.scenarios import Label

FieldActivity = Literal[
    "running", "walking", "standing", "calf_raises", "weight_shifts", "elliptical", "stair_machine"
]
STEPPING: tuple[FieldActivity, ...] = ("running", "walking")
ChangeKind = Literal[
    "tight_lacing", "medial_shift", "lateral_load", "favour", "sweat_leak", "loose_wire", "pad_flat"
]
FAULTS: tuple[ChangeKind, ...] = ("sweat_leak", "loose_wire", "pad_flat")

# The advice each condition calls for: the suggestion an alert should lead with
# (numbguard.analysis.suggestions; tests check every one is in the product's list).
LOOSEN_LACES = "Loosen the laces over the pressure point."
LOOSEN_FOREFOOT = "Loosen the forefoot lacing."
WIDER_TOE_BOX = (
    "Try a shoe with a wider toe box, often a half or full size larger than street shoes."
)
CHANGE_POSITION = "Change your foot position."
EVEN_LACING = "Check that both shoes are laced with similar tension."
CHECK_INSOLE = "Check the insole: the pad may be disconnected, shorted or out of calibration."
# The fault signature (numbguard.analysis.risk.plausibility) each simulated fault shows, whose
# advice fits its cause.
FAULT_SIGNATURES: dict[ChangeKind, str] = {
    "sweat_leak": "swing_load",
    "loose_wire": "fast_rise",
    "pad_flat": "flat_zero",
}


@dataclass(frozen=True)
class Stretch:
    """What the person does from `start_s` to `end_s`."""

    start_s: float
    end_s: float
    activity: FieldActivity
    speed_m_s: float = 0.0  # running, walking
    grade_pct: float = 0.0  # running, walking: + uphill
    rate_per_min: float = 0.0  # drills and machines: cycles (raises, shifts, strokes, steps)


@dataclass(frozen=True)
class Change:
    """A risk pattern or fault on one foot from `onset_s` (reached after `ramp_s`) to `end_s`."""

    kind: ChangeKind
    foot: Foot
    onset_s: float
    end_s: float
    pad: str = ""  # faults: the pad
    ramp_s: float = 0.0


@dataclass(frozen=True)
class FieldScenario:
    name: str
    description: str
    duration_s: float
    stretches: tuple[Stretch, ...]
    changes: tuple[Change, ...] = ()
    labels: tuple[Label, ...] = ()
    body_scale: float = 1.0  # load factor of a heavier (> 1) or lighter runner
    fatigue_per_h: float = 0.0  # forefoot load and contact time rise per hour of running

    @property
    def normal(self) -> bool:
        return not self.labels


def _runs(*parts: tuple[float, FieldActivity, float, float, float]) -> tuple[Stretch, ...]:
    """Stretches from (length_s, activity, speed_m_s, grade_pct, rate_per_min), back to back."""
    out, t = [], 0.0
    for length_s, activity, speed, grade, rate in parts:
        out.append(Stretch(t, t + length_s, activity, speed, grade, rate))
        t += length_s
    return tuple(out)


def _end(stretches: tuple[Stretch, ...]) -> float:
    return stretches[-1].end_s


def _walk_then_run() -> FieldScenario:
    s = _runs((180, "walking", 1.4, 0, 0), (540, "running", 3.0, 0, 0))
    return FieldScenario("walk_then_run", "3 min brisk walk, then 9 min easy run", _end(s), s)


def _intervals() -> FieldScenario:
    parts: list[tuple[float, FieldActivity, float, float, float]] = [(300, "running", 2.6, 0, 0)]
    for _ in range(5):
        parts += [(180, "running", 4.5, 0, 0), (90, "running", 2.6, 0, 0)]
    s = _runs(*parts)
    return FieldScenario(
        "intervals", "5 min warm-up at 2.6 m/s, then 5 x 3 min at 4.5 m/s, 90 s jogs", _end(s), s
    )


def _calf_raises_then_run() -> FieldScenario:
    s = _runs(
        (40, "standing", 0, 0, 0),
        (30, "calf_raises", 0, 0, 30),
        (30, "standing", 0, 0, 0),
        (60, "weight_shifts", 0, 0, 15),
        (40, "walking", 1.3, 0, 0),
        (460, "running", 3.1, 0, 0),
    )
    return FieldScenario(
        "calf_raises_then_run",
        "standing, 15 calf raises, weight shifts, a short walk, then an easy run",
        _end(s),
        s,
    )


def _hills() -> FieldScenario:
    s = _runs(
        (180, "running", 3.2, 0, 0),
        (240, "running", 2.8, 6, 0),
        (240, "running", 3.4, -6, 0),
        (180, "running", 3.1, 0, 0),
    )
    return FieldScenario("hills", "flat, 4 min up a 6% hill, 4 min down, flat", _end(s), s)


def _long_run() -> FieldScenario:
    s = _runs((1800, "running", 2.9, 0, 0))
    return FieldScenario(
        "long_run_drift",
        "30 min steady run: the pads warm and creep, contacts lengthen with fatigue",
        _end(s),
        s,
        fatigue_per_h=0.1,
    )


def _both(kind: str, onset_s: float, end_s: float, advice: str) -> tuple[Label, ...]:
    feet: tuple[Foot, ...] = ("left", "right")
    return tuple(Label(kind, foot, onset_s, end_s, advice) for foot in feet)


def _elliptical() -> FieldScenario:
    s = _runs((240, "running", 3.0, 0, 0), (540, "elliptical", 0, 0, 62))
    labels = _both("unrelieved_pressure", 240.0, _end(s), CHANGE_POSITION)
    return FieldScenario(
        "elliptical", "4 min run, then 9 min on an elliptical", _end(s), s, labels=labels
    )


def _stair_machine() -> FieldScenario:
    s = _runs((150, "walking", 1.3, 0, 0), (540, "stair_machine", 0, 0, 80))
    labels = _both("unrelieved_pressure", 150.0, _end(s), CHANGE_POSITION)
    return FieldScenario(
        "stair_machine", "walk in, then 9 min on a stair machine", _end(s), s, labels=labels
    )


def _tight_lacing() -> FieldScenario:
    s = _runs((300, "running", 2.8, 0, 0), (30, "standing", 0, 0, 0), (450, "running", 3.0, 0, 0))
    onset = 322.4  # re-tied tighter while standing
    change = Change("tight_lacing", "left", onset, _end(s))
    return FieldScenario(
        "tight_lacing_after_warmup",
        "5 min warm-up, stop and re-tie the left shoe too tight, run on",
        _end(s),
        s,
        (change,),
        (Label("tight_lacing", "left", onset, _end(s), LOOSEN_LACES),),
    )


def _run_with(
    name: str,
    description: str,
    length_s: float,
    speed: float,
    change: Change,
    label: Label,
    body_scale: float = 1.0,
) -> FieldScenario:
    s = _runs((length_s, "running", speed, 0, 0))
    return FieldScenario(name, description, length_s, s, (change,), (label,), body_scale)


def _medial() -> FieldScenario:
    onset = 300.7
    return _run_with(
        "medial_hotspot_shift",
        "12 min run; after 5 min the left forefoot load moves onto the medial ball",
        720.0,
        3.1,
        Change("medial_shift", "left", onset, 720.0, ramp_s=20.0),
        Label("metatarsal_hotspot", "left", onset, 720.0, LOOSEN_FOREFOOT),
    )


def _lateral() -> FieldScenario:
    onset = 280.3
    return _run_with(
        "lateral_ball_load",
        "12 min run; the right toe box presses the lateral ball, which then peaks over 450 kPa",
        720.0,
        3.3,
        Change("lateral_load", "right", onset, 720.0, ramp_s=20.0),
        Label("metatarsal_hotspot", "right", onset, 720.0, WIDER_TOE_BOX),
    )


def _limp() -> FieldScenario:
    onset = 240.9
    return _run_with(
        "limping_heavy_runner",
        "a heavy runner (forefoot peaks over 400 kPa) starts favouring the left foot",
        720.0,
        3.0,
        Change("favour", "left", onset, 720.0, ramp_s=10.0),
        Label("asymmetry", "right", onset, 720.0, EVEN_LACING),
        body_scale=1.25,
    )


def _fault(
    name: str, description: str, kind: ChangeKind, foot: Foot, pad: str, onset: float
) -> FieldScenario:
    advice = fault_advice(FAULT_SIGNATURES[kind])[0]
    return _run_with(
        name,
        description,
        600.0,
        3.1,
        Change(kind, foot, onset, 600.0, pad=pad),
        Label("sensor_fault", foot, onset, 600.0, advice),
    )


FIELD_SCENARIOS: dict[str, FieldScenario] = {
    scenario.name: scenario
    for scenario in (
        _walk_then_run(),
        _intervals(),
        _calf_raises_then_run(),
        _hills(),
        _long_run(),
        _elliptical(),
        _stair_machine(),
        _tight_lacing(),
        _medial(),
        _lateral(),
        _limp(),
        _fault(
            "sweat_leak",
            "sweat gets into the right medial ball pad: 580-800 kPa, through swing too",
            "sweat_leak",
            "right",
            "ball_medial",
            240.3,
        ),
        _fault(
            "loose_wire",
            "the right centre ball pad's wire works loose: dropouts in stance, bounces",
            "loose_wire",
            "right",
            "ball_center",
            200.5,
        ),
        _fault(
            "lace_pad_flat",
            "the left upper lace pad, live until then, goes flat at zero mid-run",
            "pad_flat",
            "left",
            "lace_upper",
            260.2,
        ),
    )
}
FIELD_NAMES: tuple[str, ...] = tuple(FIELD_SCENARIOS)


def build_field_scenario(name: str) -> FieldScenario:
    """The field scenario `name` (its length is part of it)."""
    if name not in FIELD_SCENARIOS:
        raise BadValue(
            "unknown field scenario",
            expected="one of " + ", ".join(FIELD_NAMES),
            got=repr(name),
            name="scenario",
        )
    return FIELD_SCENARIOS[name]
