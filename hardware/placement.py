"""Pad placement for the default layout, per shoe size, and the drawings of insole and tongue.

    python hardware/placement.py   # writes placement.csv, placement.png/.svg, templates/

Positions scale with foot length from anatomical landmarks given as fractions of it (heel =
0, toe tip = 1): the metatarsal heads sit at 62-73 % of foot length, the navicular at ~42 %,
the heel centre at ~11 %. Across the foot, offsets are fractions of the ball width (38 % of
foot length), medial positive. Lace pads are measured along the tongue from its lower end
(the throat of the shoe, where the lacing starts). Builders print the 1:1 templates at 100 %.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numbguard.calibration.parts import PAD_DESIGNS
from numbguard.pads import LACE_PADS, PAD_IDS

HARDWARE_DIR = Path(__file__).resolve().parent
SIZES_EU = tuple(range(36, 48))
DRAWN_SIZES_EU = (37, 40, 43, 46)
BALL_WIDTH_FRACTION = 0.38  # ball width / foot length
THROAT_FRACTION = 0.66  # lacing starts over the metatarsal shafts
DORSUM_SLOPE_DEG = 25.0  # the instep rises towards the ankle: distance along the tongue is longer

LANDMARKS: dict[str, tuple[float, float]] = {
    # pad: (fraction of foot length from the heel, fraction of ball width from the axis, medial +)
    "heel": (0.11, 0.00),  # centre of the calcaneus
    "ball_medial": (0.72, 0.30),  # 1st metatarsal head
    "ball_center": (0.70, 0.05),  # 2nd-3rd metatarsal heads
    "ball_lateral": (0.64, -0.24),  # 4th-5th metatarsal heads
    "lace_lower": (0.60, 0.05),  # over the metatarsal shafts, lower laces
    "lace_upper": (0.43, 0.08),  # over the navicular and talus, upper laces
}

# Insole outline: (fraction of length, medial edge, lateral edge) as fractions of ball width.
OUTLINE = (
    (0.00, 0.00, 0.00),
    (0.01, 0.15, -0.15),
    (0.03, 0.25, -0.25),
    (0.07, 0.32, -0.32),
    (0.12, 0.35, -0.36),
    (0.25, 0.33, -0.40),
    (0.40, 0.24, -0.44),
    (0.55, 0.36, -0.48),
    (0.70, 0.52, -0.48),
    (0.80, 0.52, -0.40),
    (0.90, 0.45, -0.27),
    (0.96, 0.32, -0.12),
    (1.00, 0.10, 0.00),
)


def foot_length_mm(size_eu: int) -> float:
    """Paris point sizing: last length = size * 2/3 cm; the foot is ~15 mm shorter."""
    return size_eu * 20.0 / 3.0 - 15.0


@dataclass(frozen=True)
class Placement:
    size_eu: int
    pad: str
    surface: str  # "insole" or "tongue"
    x_mm: float  # insole: from the heel end along the axis; tongue: up from the throat
    y_mm: float  # from the axis, medial positive (mirror for the left foot's drawing)
    spreader_diameter_mm: float


def placements(size_eu: int) -> list[Placement]:
    length = foot_length_mm(size_eu)
    width = BALL_WIDTH_FRACTION * length
    out = []
    for pad in PAD_IDS:
        along, across = LANDMARKS[pad]
        if pad in LACE_PADS:
            x = (THROAT_FRACTION - along) * length / math.cos(math.radians(DORSUM_SLOPE_DEG))
            surface = "tongue"
        else:
            x, surface = along * length, "insole"
        out.append(
            Placement(
                size_eu,
                pad,
                surface,
                round(x, 1),
                round(across * width, 1),
                PAD_DESIGNS[pad].spreader_diameter_mm,
            )
        )
    return out


def placement_csv() -> str:
    lines = ["size_eu,foot_length_mm,pad,surface,x_mm,y_mm,spreader_diameter_mm"]
    for size in SIZES_EU:
        for p in placements(size):
            lines.append(
                f"{size},{foot_length_mm(size):.1f},{p.pad},{p.surface},"
                f"{p.x_mm:.1f},{p.y_mm:.1f},{p.spreader_diameter_mm:g}"
            )
    return "\n".join(lines) + "\n"


def outline_mm(size_eu: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed outline of the right insole (x along the length, y medial positive)."""
    length = foot_length_mm(size_eu)
    width = BALL_WIDTH_FRACTION * length
    table = np.array(OUTLINE)
    t = np.linspace(0, 1, 120)
    medial = np.interp(t, table[:, 0], table[:, 1])
    lateral = np.interp(t, table[:, 0], table[:, 2])
    # Smooth the piecewise-linear edges a little (moving average), keep the ends.
    kernel = np.ones(9) / 9
    medial[4:-4] = np.convolve(medial, kernel, mode="valid")
    lateral[4:-4] = np.convolve(lateral, kernel, mode="valid")
    x = np.concatenate([t, t[::-1]]) * length
    y = np.concatenate([medial, lateral[::-1]]) * width
    return x, y


def tongue_mm(size_eu: int) -> tuple[np.ndarray, np.ndarray]:
    """Tongue outline: x up from the throat, y across; it reaches above the upper laces."""
    length = foot_length_mm(size_eu)
    top = (THROAT_FRACTION - 0.30) * length / math.cos(math.radians(DORSUM_SLOPE_DEG))
    half_bottom, half_top = 0.11 * length, 0.14 * length
    x = np.array([0, 0, top * 0.95, top, top, top * 0.95, 0])
    y = np.array(
        [
            half_bottom,
            -half_bottom,
            -half_top,
            -half_top * 0.6,
            half_top * 0.6,
            half_top,
            half_bottom,
        ]
    )
    return x, y


def _draw(ax: object, size_eu: int, tongue_offset_mm: float) -> None:
    from matplotlib.axes import Axes
    from matplotlib.patches import Circle

    assert isinstance(ax, Axes)
    x, y = outline_mm(size_eu)
    # Drawn toe up, medial to the left (a right insole and tongue seen from above); the
    # tongue stands beside the insole, shifted by tongue_offset_mm.
    ax.plot(-y, x, color="k", lw=1)
    tx, ty = tongue_mm(size_eu)
    ax.plot(tongue_offset_mm - ty, tx, color="0.3", lw=1, ls="--")
    for p in placements(size_eu):
        shift = 0.0 if p.surface == "insole" else tongue_offset_mm
        cx, cy = shift - p.y_mm, p.x_mm
        colour = "tab:orange" if p.surface == "tongue" else "tab:blue"
        ax.add_patch(Circle((cx, cy), p.spreader_diameter_mm / 2, color=colour, alpha=0.7))
        ax.annotate(p.pad, (cx, cy), xytext=(6, 2), textcoords="offset points", fontsize=6)
    ax.set_aspect("equal")


def plot_overview(path_stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "numbguard"  # stable ids: figures diff cleanly
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(DRAWN_SIZES_EU), figsize=(3.2 * len(DRAWN_SIZES_EU), 5.2), sharey=True
    )
    for ax, size in zip(axes, DRAWN_SIZES_EU, strict=True):
        _draw(ax, size, tongue_offset_mm=110.0)
        ax.set_title(f"EU {size} (foot {foot_length_mm(size):.0f} mm)", fontsize=9)
        ax.set_xlabel("mm (insole: medial left; tongue, dashed: right)", fontsize=7)
    axes[0].set_ylabel("mm from the heel (insole) / from the throat (tongue)")
    fig.suptitle("Pad placement, right foot seen from above (mirror for the left)")
    fig.tight_layout()
    for suffix in (".png", ".svg"):
        fig.savefig(
            path_stem.with_suffix(suffix),
            dpi=110,
            metadata={"Date": None} if suffix == ".svg" else {},
        )
    plt.close(fig)


def plot_templates(directory: Path) -> None:
    """1:1 SVG templates per size: print at 100 % and check the 50 mm scale bar."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "numbguard"  # stable ids: figures diff cleanly
    import matplotlib.pyplot as plt

    directory.mkdir(exist_ok=True)
    for size in SIZES_EU:
        length = foot_length_mm(size)
        width_mm, height_mm = 260.0, length + 30.0
        fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4))
        ax = fig.add_axes((0, 0, 1, 1))
        _draw(ax, size, tongue_offset_mm=150.0)
        ax.plot([-100, -50], [length + 15, length + 15], color="k", lw=2)
        ax.text(-100, length + 18, "50 mm", fontsize=7)
        ax.text(10, length + 15, f"EU {size}, right (mirror for left)", fontsize=8)
        ax.set_xlim(-110, 150)
        ax.set_ylim(-15, length + 15)
        ax.axis("off")
        fig.savefig(directory / f"placement_eu{size}.svg", metadata={"Date": None})
        plt.close(fig)


def main() -> int:
    (HARDWARE_DIR / "placement.csv").write_text(placement_csv(), encoding="utf-8")
    plot_overview(HARDWARE_DIR / "placement")
    plot_templates(HARDWARE_DIR / "templates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
