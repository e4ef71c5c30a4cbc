"""Calibration: ADC counts -> divider ratio -> FSR conductance -> force -> pressure in kPa.

- `model`: the conversion math (vectorised) and the ADC's limits;
- `pad.PadCalibration`: one pad's constants, checked, with its conversions;
- `insole.InsoleCalibration`: all pads of an insole, block conversion with saturation flags;
- `parts`: the chosen sensors, spreaders and dividers, and the defaults they give;
- `tare`: re-zero from unloaded samples; `fit`: power law from known loads;
- `loads`: the known-load table a tester takes; `store`: the insole's JSON constants file.
"""

from numbguard.calibration.fit import PowerLawFit, fit_pad
from numbguard.calibration.insole import CalibratedSamples, InsoleCalibration
from numbguard.calibration.loads import (
    LoadTable,
    calibrate_from_loads,
    parse_load_table,
    read_load_table,
)
from numbguard.calibration.model import ADC_CEILING_COUNTS, ADC_FLOOR_COUNTS, FULL_SCALE_COUNTS
from numbguard.calibration.pad import PadCalibration
from numbguard.calibration.parts import PAD_DESIGNS, default_pad_calibration
from numbguard.calibration.store import (
    calibration_from_dict,
    calibration_from_json,
    calibration_to_dict,
    calibration_to_json,
    load_calibration,
    save_calibration,
)
from numbguard.calibration.tare import tare_counts_from_window

__all__ = [
    "ADC_CEILING_COUNTS",
    "ADC_FLOOR_COUNTS",
    "FULL_SCALE_COUNTS",
    "PAD_DESIGNS",
    "CalibratedSamples",
    "InsoleCalibration",
    "LoadTable",
    "PadCalibration",
    "PowerLawFit",
    "calibrate_from_loads",
    "calibration_from_dict",
    "calibration_from_json",
    "calibration_to_dict",
    "calibration_to_json",
    "default_pad_calibration",
    "fit_pad",
    "load_calibration",
    "parse_load_table",
    "read_load_table",
    "save_calibration",
    "tare_counts_from_window",
]
