"""Names shared by every layer: the pads of an insole and the two feet.

The order of `PAD_IDS` is the wire order: pad ``PAD_IDS[i]`` is bit ``i`` of the pad mask in
every frame (see docs/protocol.md), and the order of values in a sample set.
"""

from __future__ import annotations

from typing import Final, Literal

from numbguard.errors import BadValue

Foot = Literal["left", "right"]
FOOT_IDS: Final[tuple[Foot, Foot]] = ("left", "right")

PAD_IDS: Final[tuple[str, ...]] = (
    "heel",
    "ball_medial",
    "ball_center",
    "ball_lateral",
    "lace_lower",
    "lace_upper",
)
PLANTAR_PADS: Final[frozenset[str]] = frozenset(
    {"heel", "ball_medial", "ball_center", "ball_lateral"}
)
FOREFOOT_PADS: Final[tuple[str, ...]] = ("ball_medial", "ball_center", "ball_lateral")
LACE_PADS: Final[tuple[str, ...]] = ("lace_lower", "lace_upper")


def parse_feet(text: str, *, where: str = "") -> tuple[Foot, ...]:
    """"left", "right" or "left,right" as feet in FOOT_IDS order."""
    named = tuple(part.strip() for part in text.split(","))
    feet = tuple(foot for foot in FOOT_IDS if foot in named)
    if not feet or len(feet) != len(named):
        raise BadValue("bad feet", name="feet", expected="left, right or left,right",
                       got=repr(text), where=where)  # fmt: skip
    return feet


def pads_from_mask(pad_mask: int) -> tuple[str, ...]:
    """Pad ids present in a pad mask, in wire order."""
    return tuple(pad for bit, pad in enumerate(PAD_IDS) if pad_mask >> bit & 1)


def mask_from_pads(pads: tuple[str, ...] | list[str]) -> int:
    """The pad mask for a collection of pad ids; an unknown id raises `BadValue`."""
    mask = 0
    for pad in pads:
        if pad not in PAD_IDS:
            raise BadValue(
                "unknown pad", name="pads", expected="one of " + ", ".join(PAD_IDS), got=repr(pad)
            )
        mask |= 1 << PAD_IDS.index(pad)
    return mask
