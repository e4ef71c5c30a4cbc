"""Writing a recording as the session runs: append-only, synced to disk every second.

After ``kill -9`` or a power cut the file is readable up to the last sync: at most
`sync_interval_s` of data is lost, and a half-written record at the end is reported by the
reader as damage, never misread. The file is created readable by its owner only (health data).
"""

from __future__ import annotations

import json
import logging
import os
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from numbguard import __version__
from numbguard.errors import BadValue, FileExistsAlready
from numbguard.private_files import OWNER_ONLY_MODE
from numbguard.recording.format import (
    FORMAT_VERSION,
    FRAME_PREFIX,
    MAGIC,
    MAX_PAYLOAD_BYTES,
    RECORD_CRC,
    RECORD_HEADER,
    Channel,
    RecordType,
    checked_tags,
)

logger = logging.getLogger(__name__)


class RecordingWriter:
    """Append records to a new recording file.

    `clock` gives monotonic seconds and decides when to sync; tests pass their own. `tags`
    (shoe, lacing, note) go into the SESSION record; empty ones are left out.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        session: dict[str, Any],
        *,
        sync_interval_s: float = 1.0,
        clock: Any = time.monotonic,
        tags: Mapping[str, str | None] | None = None,
    ) -> None:
        self.path = Path(path)
        tags_json = checked_tags(tags or {})
        self.sync_interval_s = sync_interval_s
        self._clock = clock
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_MODE)
        except FileExistsError:
            raise FileExistsAlready(self.path, "recording file") from None
        self._file = os.fdopen(fd, "wb")
        self._file.write(MAGIC)
        self._last_sync_s = self._clock()
        self.records_written = 0
        self.records_synced = 0
        self.frames_written = 0
        self._write_json(
            RecordType.SESSION,
            {
                "format": FORMAT_VERSION,
                "numbguard_version": __version__,
                "created_unix_s": time.time(),
                **session,
                **({"tags": tags_json} if tags_json else {}),
            },
        )
        self.sync()
        logger.info("%s: recording", self.path)

    def add_insole(self, info: dict[str, Any]) -> None:
        """Describe an insole (index, insole_id, foot, name, firmware, calibration)."""
        self._write_json(RecordType.INSOLE, info)

    def write_frame(self, insole_index: int, channel: Channel, t_rx_s: float, data: bytes) -> None:
        """Record bytes exactly as received from an insole at host time `t_rx_s`."""
        self._write(RecordType.FRAME, FRAME_PREFIX.pack(insole_index, channel, t_rx_s) + data)
        self.frames_written += 1

    def write_alert(self, alert: dict[str, Any]) -> None:
        self._write_json(RecordType.ALERT, alert)

    def write_event(self, event: dict[str, Any]) -> None:
        self._write_json(RecordType.EVENT, event)

    def close(self, reason: str = "stopped") -> None:
        if self._file.closed:
            return
        self._write_json(RecordType.END, {"reason": reason, "ended_unix_s": time.time()})
        self.sync()
        self._file.close()
        logger.info("%s: closed (%s): %d frames, %d records", self.path, reason,
                    self.frames_written, self.records_written)  # fmt: skip

    def sync(self) -> None:
        """Push everything written so far to the disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync_s = self._clock()
        self.records_synced = self.records_written

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("error" if exc_type is not None else "stopped")

    def _write_json(self, record_type: RecordType, value: dict[str, Any]) -> None:
        self._write(record_type, json.dumps(value, sort_keys=True).encode())

    def _write(self, record_type: RecordType, payload: bytes) -> None:
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise BadValue(
                "record too large",
                expected=f"at most {MAX_PAYLOAD_BYTES} bytes",
                got=f"{len(payload)} bytes",
                name="record",
            )
        header = RECORD_HEADER.pack(record_type, len(payload))
        crc = zlib.crc32(payload, zlib.crc32(header))
        # One write call per record keeps a record contiguous in the page cache.
        self._file.write(header + payload + RECORD_CRC.pack(crc))
        self.records_written += 1
        if self._clock() - self._last_sync_s >= self.sync_interval_s:
            self.sync()
