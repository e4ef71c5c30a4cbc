"""Pressure traces that drive a lab insole's pads: per foot, kPa and the ADC counts they read.

A trace comes from a simulated scenario (`SessionSimulator`), an interchange CSV, a Moticon
export or a recording (`session_chunks`). Its kPa become 12-bit counts through the nominal
calibration of the parts (`InsoleCalibration.default(...).counts_for`), which is also what the
host assumes for an insole without a fitted calibration, so the host's kPa are the trace's up
to the ADC's rounding.

`write_adc_file` writes the binary file the simulated `machine` module reads
(``NUMBGUARD_ADC_TRACE_BIN``): a line naming the GPIO of each column, then one row of
little-endian uint16 counts per sample set. Each ADC read takes the next value of its pin, so
firmware sample `k` reads row `k` (oversampling 1). The counts are the pins' voltages; the
firmware gets what the simulated ESP32 makes of them (`numbguard.calibration.esp32_adc`: its
floor, its top, noise keyed by GPIO and row), and `read_by` computes the same, so the host can
check every value it receives.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numbguard.calibration import esp32_adc
from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.model import IntArray
from numbguard.errors import InputError
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot, mask_from_pads
from numbguard.protocol.constants import RATE_MAX_HZ, RATE_MIN_HZ
from numbguard.session.sources import session_chunks
from numbguard.simulate import SessionSimulator, build_scenario
from numbguard.types import FloatArray, PressureChunk

PINOUT_FILE = "pinout.py"


@dataclass(frozen=True)
class PadTrace:
    """One foot's pads over time: `pressure_kpa[k]` and `counts[k]` are sample set k."""

    foot: Foot
    rate_hz: int
    pads: tuple[str, ...]  # in wire order
    pressure_kpa: FloatArray  # (samples, pads)
    counts: IntArray  # (samples, pads), what the ADC reads

    @classmethod
    def from_kpa(
        cls, foot: Foot, rate_hz: float, pads: Iterable[str], pressure_kpa: FloatArray
    ) -> PadTrace:
        rate = round(rate_hz)
        if rate != rate_hz or not RATE_MIN_HZ <= rate <= RATE_MAX_HZ:
            raise InputError(
                "trace rate the firmware cannot sample at",
                expected=f"a whole number of Hz in {RATE_MIN_HZ}-{RATE_MAX_HZ}",
                got=repr(rate_hz),
            )
        wanted = tuple(pads)
        order = sorted(range(len(wanted)), key=lambda i: PAD_IDS.index(wanted[i]))
        mask_from_pads(list(wanted))  # unknown pads are an InputError
        ordered = tuple(wanted[i] for i in order)
        # A sample missing in a recording reads as an unloaded pad: the firmware needs a value.
        kpa = np.nan_to_num(np.asarray(pressure_kpa, dtype=np.float64)[:, order], nan=0.0)
        counts = InsoleCalibration.default(ordered, foot=foot).counts_for(kpa, ordered)
        return cls(foot, rate, ordered, kpa, counts)

    @property
    def duration_s(self) -> float:
        return len(self.counts) / self.rate_hz

    @property
    def pad_mask(self) -> int:
        return mask_from_pads(list(self.pads))

    def chunk(self, first: int = 0, stop: int | None = None) -> PressureChunk:
        """Samples first..stop as the analysis takes them, on the trace's own time axis."""
        stop = len(self.counts) if stop is None else stop
        t_s = np.arange(first, stop, dtype=np.float64) / self.rate_hz
        pressure = {pad: self.pressure_kpa[first:stop, i] for i, pad in enumerate(self.pads)}
        return PressureChunk(self.foot, t_s, pressure, float(self.rate_hz))

    def read_by(
        self, part: esp32_adc.Part, firmware_dir: Path, first: int = 0, stop: int | None = None
    ) -> IntArray:
        """Rows first..stop as the firmware reads them through `part` (oversampling 1): the
        exact counts it sends, noise included."""
        stop = len(self.counts) if stop is None else stop
        gpio = pad_gpio(firmware_dir)
        rows = self.counts[first:stop]
        out = np.empty(rows.shape, dtype=np.int64)
        for column, pad in enumerate(self.pads):
            pin = gpio[pad]
            values = rows[:, column].tolist()
            out[:, column] = [
                part.read_counts(int(c), pin, first + k) for k, c in enumerate(values)
            ]
        return out

    def write_adc_file(self, path: Path, firmware_dir: Path) -> Path:
        """The binary ADC file for the simulated `machine` (see the module's docstring)."""
        gpio = pad_gpio(firmware_dir)
        header = ",".join(str(gpio[pad]) for pad in self.pads) + "\n"
        rows = np.ascontiguousarray(self.counts, dtype="<u2")
        path.write_bytes(header.encode() + rows.tobytes())
        return path


def pad_gpio(firmware_dir: Path) -> dict[str, int]:
    """Pad id -> ADC GPIO, from the firmware's own pinout (generated from hardware/)."""
    source = (firmware_dir / PINOUT_FILE).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PAD_PINS" for t in node.targets
        ):
            return {str(pad): int(pin) for pad, pin in ast.literal_eval(node.value)}
    raise InputError("no PAD_PINS in the pinout", expected="PAD_PINS = (...)", got=str(source)[:80])


def traces_from_chunks(chunks: Iterable[PressureChunk]) -> dict[Foot, PadTrace]:
    """Both feet's traces from a stream of chunks (either foot, any chunking, one rate)."""
    parts: dict[Foot, list[PressureChunk]] = {}
    for chunk in chunks:
        parts.setdefault(chunk.foot, []).append(chunk)
    traces: dict[Foot, PadTrace] = {}
    for foot in FOOT_IDS:
        if foot not in parts:
            continue
        first = parts[foot][0]
        pads = tuple(first.pressure_kpa)
        kpa = np.concatenate(
            [np.column_stack([c.pressure_kpa[pad] for pad in pads]) for c in parts[foot]]
        )
        traces[foot] = PadTrace.from_kpa(foot, first.sample_rate_hz, pads, kpa)
    if not traces:
        raise InputError("no samples for a trace", expected="chunks of either foot", got="none")
    return traces


def scenario_traces(
    name: str, duration_s: float, *, seed: int = 0, rate_hz: int = 100
) -> dict[Foot, PadTrace]:
    """Both feet of a simulated scenario (`numbguard simulate` names)."""
    scenario = build_scenario(name, duration_s)
    simulator = SessionSimulator(scenario, seed=seed, sample_rate_hz=rate_hz)
    return traces_from_chunks(simulator.chunks(chunk_s=10.0))


def file_traces(path: Path) -> dict[Foot, PadTrace]:
    """Both feet of a session file: a recording, an interchange CSV or a Moticon export."""
    with session_chunks(path) as chunks:
        return traces_from_chunks(chunks)
