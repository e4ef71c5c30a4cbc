"""What numbguard tells the runner: one-line messages and ranked suggestions per alert kind.

Every suggestion comes from the remedy list of the product brief (section "Why feet go numb
when running"), ranked for the pattern that was seen. The wording describes pressure and what
to change; it never names a condition or claims a diagnosis.
"""

from __future__ import annotations

from typing import Final

from numbguard.types import Severity

# Ranked: the first suggestion is the most direct change for the pattern.
SUGGESTIONS: Final[dict[str, tuple[str, ...]]] = {
    "tight_lacing": (
        "Loosen the laces over the pressure point.",
        "Skip an eyelet or use window lacing around the pressure point.",
        "Check that the tongue lies flat.",
        "Re-tie the laces with even tension.",
    ),
    "forefoot_overload": (
        "Shorten your stride and raise your cadence.",
        "Land more softly to reduce impact on the ball of the foot.",
        "Consider a rigid arch support that conforms to the arch and stops short of the toes.",
        "Consider a metatarsal pad.",
        "Warm up, stretch or foam-roll tight calves.",
    ),
    "metatarsal_hotspot": (
        "Loosen the forefoot lacing.",
        "Try a shoe with a wider toe box, often a half or full size larger than street shoes.",
        "Check for seams pressing on the foot.",
        "If the pressure point keeps coming back, see a podiatrist.",
    ),
    "unrelieved_pressure": (
        "Change your foot position.",
        "Take short breaks to unload the balls of your feet.",
        "Vary the exercise.",
    ),
    "sensor_fault": (
        "Check the insole: the pad may be disconnected, shorted or out of calibration.",
        "Re-zero or recalibrate the insole before relying on its alerts.",
    ),
    "asymmetry": (
        "Check that both shoes are laced with similar tension.",
        "Shorten your stride and land more softly.",
    ),
}

# Advice per fault signature (risk/sensor_fault.py, risk/plausibility.py): insole care, not a
# remedy. The brief's insole section is the source: FSRs drift, shift with temperature and need
# per-pad calibration and re-zeroing; a pad that fails is checked, then recalibrated.
_RECALIBRATE = "Re-zero or recalibrate the insole before relying on its alerts."
_LOOSE_CONTACT = (
    "Check the pad's wire and connector: the reading jumps faster than a foot can load it, "
    "or drops to zero in mid-step, as a loose contact does."
)
FAULT_ADVICE: Final[dict[str, tuple[str, ...]]] = {
    "swing_load": (
        "Dry the insole and its connections: the pad reads load while the foot is in the air.",
        _RECALIBRATE,
    ),
    # One cause, a loose contact, shows as either signature: one advice for both.
    "fast_rise": (_LOOSE_CONTACT, _RECALIBRATE),
    "dropout": (_LOOSE_CONTACT, _RECALIBRATE),
    "flat_zero": (
        "Check the insole: the pad stopped responding and may be disconnected.",
        "Until it reads again, what only this pad measures is not assessed.",
    ),
}


def fault_advice(fault: str) -> tuple[str, ...]:
    """Advice for a sensor fault of signature `fault` (the generic advice if none is specific)."""
    return FAULT_ADVICE.get(fault, SUGGESTIONS["sensor_fault"])


_WHAT: Final[dict[str, str]] = {
    "tight_lacing": "sustained lace pressure on the top of the foot",
    "forefoot_overload": "high load under the ball of the foot for a long time",
    "metatarsal_hotspot": "load concentrated on one part of the ball of the foot",
    "unrelieved_pressure": "the ball of the foot never unloads between steps",
    "sensor_fault": "a pad reads implausibly; its data is ignored",
    "asymmetry": "one foot carries much more load than the other",
}

_LEVEL: Final[dict[Severity, str]] = {"info": "Note", "warning": "Watch", "alert": "Act now"}


def _pad_text(pads: tuple[str, ...]) -> str:
    return ", ".join(pad.replace("_", " ") for pad in pads)


def suggestions_for(kind: str, pads: tuple[str, ...]) -> tuple[str, ...]:
    """Ranked suggestions for an alert of `kind` on `pads` (empty for an unknown kind)."""
    ranked = SUGGESTIONS.get(kind, ())
    if kind == "tight_lacing" and pads == ("lace_lower",):
        # Lower laces sit over the metatarsals: the forefoot lacing is the lever there.
        return (ranked[0], "Loosen the forefoot lacing.", *ranked[1:])
    if kind == "metatarsal_hotspot" and "ball_lateral" in pads:
        # Load pressed onto the 4th-5th metatarsal heads is the toe box squeezing the foot
        # from the side (the brief's lateral, neuroma pattern): a wider toe box comes first,
        # as in the brief's remedy order; lacing is the lever for a medial or central shift.
        return (ranked[1], ranked[0], *ranked[2:])
    return ranked


def raise_message(kind: str, foot: str, severity: Severity, pads: tuple[str, ...]) -> str:
    """One line for a raised alert, e.g. 'Watch: left foot, lace upper: sustained ...'."""
    where = f"{foot} foot" + (f", {_pad_text(pads)}" if pads else "")
    return f"{_LEVEL[severity]}: {where}: {_WHAT.get(kind, kind.replace('_', ' '))}."


def clear_message(kind: str, foot: str, pads: tuple[str, ...]) -> str:
    """One line for an alert whose condition has gone away."""
    where = f"{foot} foot" + (f", {_pad_text(pads)}" if pads else "")
    return f"Eased: {where}: {kind.replace('_', ' ')} no longer seen."
