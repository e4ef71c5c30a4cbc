"""USB-serial transport: pyserial ports, one insole each, COBS frames both ways.

A reader thread per port hands the bytes to the event loop, where `SerialFrameDecoder`
reassembles frames from any cut and drops garbage up to the next delimiter. A port that goes
away (board unplugged, peer process gone) ends the transport with `DeviceError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import time
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import serial

from numbguard.errors import (
    BadUrl,
    DeviceError,
    DeviceNotFound,
    DeviceRefused,
    LinkLost,
)
from numbguard.protocol.cobs import encode_serial
from numbguard.protocol.decoder import SerialFrameDecoder
from numbguard.transports.base import InsoleIdentity, Transport
from numbguard.transports.link import DEFAULT_TIME_SYNC_PERIOD_S, InsoleLink

logger = logging.getLogger(__name__)

DEFAULT_BAUD: Final = 115200
READ_TIMEOUT_S: Final = 0.05  # how long a reader thread blocks before checking for close
URL_FORMS: Final = (
    "serial:///dev/ttyUSB0",
    "serial:///dev/ttyUSB0,/dev/ttyUSB1 (both insoles)",
    "serial:///dev/ttyACM0?baud=921600",
)


class _Port:
    """One open port: its pyserial object, reader thread, decoder and insole."""

    def __init__(self, path: str, handle: serial.SerialBase, link: InsoleLink) -> None:
        self.path = path
        self.handle = handle
        self.link = link
        self.decoder = SerialFrameDecoder()
        self.write_lock = asyncio.Lock()
        self.thread: threading.Thread | None = None


class SerialTransport(Transport):
    """Insoles on serial ports (real USB, a pty, or any pyserial URL such as ``loop://``)."""

    def __init__(
        self,
        url: str,
        paths: list[str],
        *,
        baud: int = DEFAULT_BAUD,
        time_sync_period_s: float = DEFAULT_TIME_SYNC_PERIOD_S,
    ) -> None:
        super().__init__(url)
        if not paths:
            raise BadUrl("no serial port given", expected=" or ".join(URL_FORMS), got=url, url=url)
        self.paths = paths
        self.baud = baud
        self.time_sync_period_s = time_sync_period_s
        self._sync_task: asyncio.Task[None] | None = None
        self._ports: dict[str, _Port] = {}
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def insoles(self) -> tuple[InsoleIdentity, ...]:
        return tuple(port.link.identity for port in self._ports.values() if port.link.identity)

    @property
    def decoders(self) -> dict[str, SerialFrameDecoder]:
        """Each port's decoder, for its counters of frames decoded and rejected."""
        return {path: port.decoder for path, port in self._ports.items()}

    async def _open(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            for path in self.paths:
                handle = await asyncio.to_thread(self._open_port, path)
                logger.info("%s: serial port open at %d baud", path, self.baud)
                port = _Port(path, handle, self._new_link(path))
                self._ports[path] = port
                port.thread = threading.Thread(
                    target=self._read_forever, args=(port,), name=f"serial {path}", daemon=True
                )
                port.thread.start()
            for port in self._ports.values():
                await port.link.identify()
                await port.link.time_sync()
        except BaseException:
            await self._close()
            raise
        self._sync_task = asyncio.get_running_loop().create_task(self._sync_forever())

    async def _sync_forever(self) -> None:
        """A TIME_SYNC round trip per insole every period, for the drift estimate."""
        while True:
            await asyncio.sleep(self.time_sync_period_s)
            for port in self._ports.values():
                with contextlib.suppress(DeviceError):
                    await port.link.time_sync()

    def _open_port(self, path: str) -> serial.SerialBase:
        try:
            return serial.serial_for_url(path, baudrate=self.baud, timeout=READ_TIMEOUT_S)
        except (serial.SerialException, OSError, ValueError) as error:
            # pyserial keeps the OS's errno: ENOENT is a port that is not there (unplugged).
            if getattr(error, "errno", None) == errno.ENOENT:
                raise DeviceNotFound(path, None, f"no such serial port ({error})") from error
            raise DeviceRefused(path, "opening the serial port", str(error)) from error

    async def _close(self) -> None:
        self._stopping.set()
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        for port in self._ports.values():
            port.link.cancel()
        for port in self._ports.values():
            with contextlib.suppress(Exception):
                port.handle.cancel_read()
            if port.thread is not None:
                await asyncio.to_thread(port.thread.join, 1.0)
            with contextlib.suppress(Exception):
                port.handle.close()

    def _read_forever(self, port: _Port) -> None:
        """Reader thread: pass every chunk to the loop, stamped with its arrival time."""
        loop = self._loop
        assert loop is not None
        try:
            while not self._stopping.is_set():
                chunk = port.handle.read(max(1, port.handle.in_waiting))
                if chunk:
                    loop.call_soon_threadsafe(self._on_chunk, port, chunk, time.monotonic())
        except (serial.SerialException, OSError, TypeError) as error:
            # pyserial raises TypeError from a read racing close(); either way the line is gone.
            if not self._stopping.is_set():
                with contextlib.suppress(RuntimeError):  # the loop itself may be closing
                    loop.call_soon_threadsafe(self._on_lost, port, error)

    def _on_chunk(self, port: _Port, chunk: bytes, received_s: float) -> None:
        for decoded in port.decoder.feed_raw(chunk):
            port.link.on_frame(decoded, received_s)

    def _on_lost(self, port: _Port, error: BaseException) -> None:
        port.decoder.flush()
        lost = LinkLost(port.path, detail=f"serial: {error}")
        logger.info("%s: serial link lost: %s", port.path, error)
        port.link.lost(lost)
        self._fail(lost)

    async def _send(self, link: str, frame: bytes) -> None:
        port = self._ports.get(link)
        if port is None:
            raise DeviceNotFound(link, None, f"not a serial port open on {self.url}")
        if self._failure is not None:
            raise self._failure
        async with port.write_lock:
            try:
                await asyncio.to_thread(port.handle.write, encode_serial(frame))
            except (serial.SerialException, OSError) as error:
                raise DeviceRefused(link, "serial write", str(error)) from error


def from_url(url: str, **options: Any) -> SerialTransport:
    """``serial://PATH[,PATH2][?baud=N]``; PATH is a device path or a pyserial URL; `options`
    as `SerialTransport` (e.g. ``time_sync_period_s``)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    baud_text = query.pop("baud", [str(DEFAULT_BAUD)])[-1]
    if query:
        raise BadUrl("unknown serial option", expected="baud", got=", ".join(query), url=url)
    try:
        baud = int(baud_text)
    except ValueError:
        raise BadUrl("baud rate is not a number", expected="e.g. baud=115200",
                     got=repr(baud_text), url=url) from None  # fmt: skip
    body = (parts.netloc + parts.path) if parts.netloc else parts.path
    paths = [path for path in body.split(",") if path]
    if not paths:
        raise BadUrl("no serial port given", expected=" or ".join(URL_FORMS), got=url, url=url)
    return SerialTransport(url, paths, baud=baud, **options)
