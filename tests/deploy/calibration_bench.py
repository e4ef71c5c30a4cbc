"""An insole on the calibration bench: the CPython serial insole whose pads read known loads.

The lab's emulator (numbguard_lab.serial_insole) samples a gait trace; on the bench the pads
read what lies on them instead. The loads come from a JSON file ``{"pad": load_n, ...}``
that the tester's hand (a test) rewrites; each pad turns its load into ADC counts through
its *true* constants: the nominal ones of its design (numbguard.calibration.parts) with the
gain and exponent scaled (``--true PAD=GAIN_SCALE,EXPONENT_SCALE``, repeatable), as a real
part differs from its datasheet, plus +-2 counts of deterministic noise. A calibration run must
find those true constants. Other options are the serial insole's (``--foot``, ...).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path

import numpy as np

from numbguard.calibration.pad import PadCalibration
from numbguard.calibration.parts import default_pad_calibration
from numbguard.pads import PAD_IDS, pads_from_mask
from numbguard.protocol.constants import ALL_PADS_MASK
from numbguard.transports import emulated_insole as insole_emulator
from numbguard_lab import serial_insole

NOISE_COUNTS = (0, 1, -1, 2, 0, -2, 1, -1)


class Bench:
    def __init__(self, load_file: Path, scales: dict[str, tuple[float, float]]) -> None:
        self.load_file = load_file
        self.loads_n: dict[str, float] = {}
        self._stamp = 0
        self.true = {}
        for pad in PAD_IDS:
            gain_scale, exponent_scale = scales.get(pad, (1.0, 1.0))
            nominal = default_pad_calibration(pad)
            self.true[pad] = nominal.with_power_law(
                nominal.gain * gain_scale, nominal.exponent * exponent_scale
            )

    def _read_loads(self) -> None:
        try:
            stamp = os.stat(self.load_file).st_mtime_ns
            if stamp == self._stamp:
                return
            loads = json.loads(self.load_file.read_text())
        except (FileNotFoundError, ValueError):  # not there yet, or caught mid-write
            return
        self._stamp = stamp
        self.loads_n = {str(pad): float(load_n) for pad, load_n in loads.items()}

    def counts(self, pad: PadCalibration, load_n: float) -> float:
        if load_n <= 0:
            return 0.0
        return float(pad.counts_for_pressure(load_n / pad.area_mm2 * 1000.0))

    def sample_set(self, sample_index: int, rate_hz: int, pad_mask: int) -> list[int]:
        self._read_loads()
        noise = NOISE_COUNTS[sample_index % len(NOISE_COUNTS)]
        values = []
        for pad in pads_from_mask(pad_mask):
            counts = self.counts(self.true[pad], self.loads_n.get(pad, 0.0))
            values.append(int(np.clip(round(counts) + noise, 0, 4095)))
        return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-file", type=Path, required=True)
    parser.add_argument("--true", action="append", default=[], metavar="PAD=GAIN,EXPONENT")
    parser.add_argument("--pad-mask", type=lambda text: int(text, 0), default=ALL_PADS_MASK,
                        help="the pads this build has")  # fmt: skip
    own, rest = parser.parse_known_args()
    scales = {}
    for item in own.true:
        pad, _, values = item.partition("=")
        gain_scale, exponent_scale = (float(v) for v in values.split(","))
        scales[pad] = (gain_scale, exponent_scale)
    bench = Bench(own.load_file, scales)
    # The emulator's pads read the bench instead of its gait trace.
    insole_emulator.sample_set = bench.sample_set
    serial_insole.InsoleEmulator = functools.partial(  # type: ignore[misc]
        insole_emulator.InsoleEmulator, pad_mask=own.pad_mask
    )
    return serial_insole.run(serial_insole.build_parser().parse_args(rest))


if __name__ == "__main__":
    sys.exit(main())
