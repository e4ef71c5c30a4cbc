"""`sim://SCENARIO`: a simulated pair of insoles, for demos and tests, through the real stack.

Each foot is an `InsoleEmulator` (the firmware's behaviour in CPython: frames, status pages,
ring buffer, control replies) whose samples come from the session simulator's pressures for
the scenario, turned into ADC counts by the insole's nominal calibration. Frames go through
the same `InsoleLink` as serial and BLE (decoding, identity, gap tracking, RESEND).

Time is virtual: frames carry the simulated clock as their receive time, so a run gives the
same frames and alerts at any `speed` (1 = real time, 20 = twenty times faster, `max` = as
fast as possible).

URL: ``sim://SCENARIO?speed=20&seed=0&duration_s=120&loss=0.1`` (loss: share of data
notifications dropped, then recovered by RESEND).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator
from typing import Final
from urllib.parse import parse_qs, urlsplit

import numpy as np

from numbguard.calibration.insole import InsoleCalibration
from numbguard.errors import BadUrl, DeviceNotFound
from numbguard.pads import FOOT_IDS, Foot, mask_from_pads, pads_from_mask
from numbguard.protocol.codec import decode_frame
from numbguard.protocol.decoder import Decoded
from numbguard.simulate import SCENARIO_NAMES, SessionSimulator, build_scenario
from numbguard.transports.base import InsoleIdentity, Transport
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.types import PressureChunk

TICK_S: Final = 0.05  # virtual time between polls of the emulated insoles
LINK_LATENCY_S: Final = 0.012  # virtual radio latency from insole to host
INSOLE_IDS: Final[dict[Foot, int]] = {"left": 0x5A1E0001, "right": 0x5A1E0002}
# Different device clocks, so the host's alignment is exercised as with real insoles.
CLOCK_OFFSETS_US: Final[dict[Foot, int]] = {"left": 3_000_000, "right": 41_000_000}


class _SimulatedPressures:
    """Counts per sample index from one foot of a simulated session, read chunk by chunk."""

    def __init__(self, chunks: Iterator[PressureChunk], calibration: InsoleCalibration) -> None:
        self._chunks = chunks
        self._calibration = calibration
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self._first = 0
        self._pads: tuple[str, ...] = ()

    def __call__(self, sample_index: int, rate_hz: int, pad_mask: int) -> list[int]:
        while sample_index >= self._first + len(self._counts):
            chunk = next(self._chunks, None)
            if chunk is None:
                return [0] * len(pads_from_mask(pad_mask))  # the session is over: unloaded
            self._first += len(self._counts)
            self._pads = tuple(chunk.pressure_kpa)
            pressure = np.column_stack([chunk.pressure_kpa[pad] for pad in self._pads])
            # A sample the simulator marks missing is a dropped packet there; here the
            # radio drops packets itself (`loss`), so the insole still measured something.
            pressure = np.nan_to_num(pressure, nan=0.0)
            self._counts = self._calibration.counts_for(pressure, self._pads)
        row = self._counts[sample_index - self._first]
        by_pad = dict(zip(self._pads, row.tolist(), strict=True))
        return [int(by_pad.get(pad, 0)) for pad in pads_from_mask(pad_mask)]


class SimTransport(Transport):
    def __init__(
        self,
        url: str,
        scenario: str,
        *,
        speed: float = 20.0,
        seed: int = 0,
        duration_s: float = 120.0,
        loss: float = 0.0,
    ) -> None:
        super().__init__(url)
        self.speed = speed
        self.duration_s = duration_s
        self.loss = loss
        self.now_s = 0.0  # virtual clock
        self._rng = random.Random(seed)
        simulator = SessionSimulator(build_scenario(scenario, duration_s=duration_s), seed=seed)
        self._emulators: dict[str, InsoleEmulator] = {}
        for foot in FOOT_IDS:
            first = next(simulator.foot_chunks(foot, 1.0))
            pads = tuple(first.pressure_kpa)
            calibration = InsoleCalibration.default(pads, foot=foot)
            source = _SimulatedPressures(simulator.foot_chunks(foot, 1.0), calibration)
            link = f"sim:{foot}"
            self._emulators[link] = InsoleEmulator(
                foot=foot,
                insole_id=INSOLE_IDS[foot],
                rate_hz=round(simulator.sample_rate_hz),
                pad_mask=mask_from_pads(pads),
                clock_offset_us=CLOCK_OFFSETS_US[foot],
                boot_id=seed & 0xFFFF,
                sample_source=source,
            )
            self._new_link(link, name=self._emulators[link].advertised_name)
        self._task: asyncio.Task[None] | None = None

    @property
    def insoles(self) -> tuple[InsoleIdentity, ...]:
        return tuple(link.identity for link in self.links.values() if link.identity is not None)

    def clock_s(self) -> float:
        return self.now_s

    async def _open(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        for link in self.links.values():
            link.cancel()

    async def _send(self, link: str, frame: bytes) -> None:
        emulator = self._emulators.get(link)
        if emulator is None:
            raise DeviceNotFound(link, None, f"no simulated insole of {self.url} there")
        for out in emulator.handle_control(frame, self.now_s):
            self._deliver(link, out.frame, self.now_s + LINK_LATENCY_S)

    def _deliver(self, link: str, raw: bytes, received_s: float) -> None:
        self.links[link].on_frame(Decoded(decode_frame(raw), raw), received_s)

    async def _run(self) -> None:
        ticks = math.ceil(self.duration_s / TICK_S)
        for tick in range(ticks + 1):
            self.now_s = tick * TICK_S
            for link, emulator in self._emulators.items():
                for out in emulator.poll(self.now_s):
                    if out.channel == "data" and self._rng.random() < self.loss:
                        continue  # lost on the radio; the link asks for it again
                    self._deliver(link, out.frame, self.now_s + LINK_LATENCY_S)
            # Let the consumer and the links' resend requests run between ticks.
            await asyncio.sleep(TICK_S / self.speed if math.isfinite(self.speed) else 0)
            for insole_link in self.links.values():
                await insole_link.settle()
        await self.close()


def from_url(url: str) -> SimTransport:
    parts = urlsplit(url)
    scenario = parts.netloc or parts.path.lstrip("/") or "normal_run"
    if scenario not in SCENARIO_NAMES:
        raise BadUrl(
            "unknown simulated scenario",
            url=url,
            expected="sim://NAME with NAME one of " + ", ".join(SCENARIO_NAMES),
            got=repr(scenario),
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    known = {"speed", "seed", "duration_s", "loss"}
    unknown = set(query) - known
    if unknown:
        raise BadUrl(
            "unknown sim:// option",
            url=url,
            expected=", ".join(sorted(known)),
            got=", ".join(sorted(unknown)),
        )
    try:
        speed = math.inf if query.get("speed") == "max" else float(query.get("speed", 20.0))
        seed = int(query.get("seed", 0))
        duration_s = float(query.get("duration_s", 120.0))
        loss = float(query.get("loss", 0.0))
    except ValueError as error:
        raise BadUrl(
            "bad sim:// option value",
            url=url,
            expected="numbers (speed may be 'max')",
            got=str(error),
        ) from None
    if not (speed > 0 and duration_s > 0 and 0.0 <= loss < 1.0):
        raise BadUrl(
            "sim:// option out of range",
            url=url,
            expected="speed > 0, duration_s > 0, 0 <= loss < 1",
            got=f"speed={speed}, duration_s={duration_s}, loss={loss}",
        )
    return SimTransport(url, scenario, speed=speed, seed=seed, duration_s=duration_s, loss=loss)
