"""ADC counts -> kPa curve and resolution of the chosen parts, from `numbguard.calibration`.

    python hardware/adc_curve.py   # writes adc_curve.csv, adc_curve.md, adc_curve.png/.svg

The same model the host uses (numbguard.calibration, default constants of each pad design),
so the curve shown is the curve applied. `adc_curve.csv` and `adc_curve.md` are checked to be
up to date by tests/hardware; the figure needs matplotlib.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from numbguard.calibration import ADC_CEILING_COUNTS, ADC_FLOOR_COUNTS, default_pad_calibration
from numbguard.calibration.pad import PadCalibration
from numbguard.calibration.parts import PAD_DESIGNS

HARDWARE_DIR = Path(__file__).resolve().parent
DESIGNS = {"plantar": "ball_center", "lace": "lace_upper"}
"""Each pad design and a pad that uses it (heel and ball pads share the plantar design)."""
CURVE_STEP_COUNTS = 32
SUMMARY_KPA = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 150.0, 300.0, 500.0, 700.0, 900.0)
ADC_NOISE_COUNTS = 4.0
"""Reading noise assumed after oversampling (ESP32 ADC: ~+-10 counts raw); a judgement."""


def calibrations() -> dict[str, PadCalibration]:
    return {design: default_pad_calibration(pad) for design, pad in DESIGNS.items()}


def curve_rows() -> list[tuple[str, int, float, float, bool]]:
    """(design, counts, pressure_kpa, kpa_per_count, saturated) every CURVE_STEP_COUNTS."""
    counts = np.arange(0, 4096, CURVE_STEP_COUNTS, dtype=np.float64)
    counts[-1] = 4095.0
    rows = []
    for design, calibration in calibrations().items():
        pressure, saturated = calibration.pressure_and_saturation(counts)
        step = calibration.kpa_per_count(pressure)
        for c, p, s, flag in zip(counts, pressure, step, saturated, strict=True):
            rows.append((design, int(c), float(p), float(s), bool(flag)))
    return rows


def curve_csv() -> str:
    lines = ["design,counts,pressure_kpa,kpa_per_count,saturated"]
    lines += [f"{d},{c},{p:.4f},{s:.5f},{int(flag)}" for d, c, p, s, flag in curve_rows()]
    return "\n".join(lines) + "\n"


def summary_markdown() -> str:
    parts = calibrations()
    out = [
        "| design | pads | sensor | spreader | divider | reads from | reads to (ADC 2450 mV) |"
        " rated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for design, calibration in parts.items():
        pads = ", ".join(pad for pad, d in PAD_DESIGNS.items() if d is PAD_DESIGNS[DESIGNS[design]])
        spec = PAD_DESIGNS[DESIGNS[design]]
        low, high = calibration.readable_range_kpa()
        out.append(
            f"| {design} | {pads} | {spec.sensor.part_number} | {spec.spreader_diameter_mm:g} mm "
            f"({spec.area_mm2:.1f} mm²) | {spec.divider_ohms / 1000:g} kΩ | {low:.1f} kPa "
            f"(count {ADC_FLOOR_COUNTS}) | {high:.0f} kPa (count {ADC_CEILING_COUNTS}) | "
            f"{calibration.rated_kpa:.0f} kPa |"
        )
    out += [
        "",
        "Pressure step of one ADC count (kPa per count); `-` outside the readable range:",
        "",
        "| kPa | " + " | ".join(parts) + " |",
        "|---" * (len(parts) + 1) + "|",
    ]
    for kpa in SUMMARY_KPA:
        cells = []
        for calibration in parts.values():
            low, high = calibration.readable_range_kpa()
            inside = low <= kpa <= high
            cells.append(f"{float(calibration.kpa_per_count(kpa)):.3f}" if inside else "-")
        out.append(f"| {kpa:g} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot(path_stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "numbguard"  # stable ids: figures diff cleanly
    import matplotlib.pyplot as plt

    counts = np.arange(0, 4096, dtype=np.float64)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for design, calibration in calibrations().items():
        pressure = calibration.pressure_kpa(counts)
        left.plot(counts, pressure, label=f"{design} ({calibration.sensor})")
        low, high = calibration.readable_range_kpa()
        kpa = np.geomspace(max(low, 0.5), high, 300)
        right.plot(
            kpa,
            calibration.kpa_per_count(kpa) * ADC_NOISE_COUNTS,
            label=f"{design}: {ADC_NOISE_COUNTS:g} counts of noise",
        )
    for ax in (left,):
        ax.axvspan(0, ADC_FLOOR_COUNTS, color="0.9")
        ax.axvspan(ADC_CEILING_COUNTS, 4095, color="0.9")
        ax.axhline(700, color="tab:red", lw=0.8, ls="--")
        ax.text(80, 720, "700 kPa (forefoot target)", color="tab:red", fontsize=8)
        ax.set_ylim(0, 1200)
        ax.set_xlabel("ADC counts (12-bit, ratiometric)")
        ax.set_ylabel("pressure (kPa)")
        ax.set_title("counts -> kPa (grey: outside the ADC's linear range)")
        ax.legend(loc="upper left", fontsize=8)
    right.axhline(2.0, color="tab:red", lw=0.8, ls="--")
    right.text(1.1, 2.2, "2 kPa (lace target)", color="tab:red", fontsize=8)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("pressure (kPa)")
    right.set_ylabel("smallest resolvable step (kPa)")
    right.set_title("resolution across the readable range")
    right.legend(fontsize=8)
    fig.tight_layout()
    for suffix in (".png", ".svg"):
        fig.savefig(
            path_stem.with_suffix(suffix),
            dpi=110,
            metadata={"Date": None} if suffix == ".svg" else {},
        )
    plt.close(fig)


def main() -> int:
    (HARDWARE_DIR / "adc_curve.csv").write_text(curve_csv(), encoding="utf-8")
    (HARDWARE_DIR / "adc_curve.md").write_text(summary_markdown(), encoding="utf-8")
    plot(HARDWARE_DIR / "adc_curve")
    print(summary_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
