"""A session as a FIT activity file, for Garmin Connect, Strava, intervals.icu and the like.

The file is written with the encoder of Garmin's FIT SDK for Python (`garmin_fit_sdk.Encoder`,
in the SDK since 21.200). It holds, in the "summary last" order of Garmin's activity-file
guide: file_id (type activity), developer_data_id and field_description (numbguard's
developer fields), device_info (the creator), a timer start event, then in time order one
record per step of either foot and one event per alert, a timer stop event, one lap, one
session and the activity.

Each record is one step (a foot strike): ``timestamp`` is the whole second of the strike (FIT
records have no finer time, so two or three records share a second while running), native
``cadence`` + ``fractional_cadence`` the step's own stride rate in strides per minute (FIT's
running cadence, half of steps per minute; absent on a step with no stride before it: a
foot's first, the first after a pause), native ``stance_time`` the contact time in ms, and
the developer fields in `RECORD_FIELDS`. Each alert is a ``user_marker``/``marker`` event with
the developer fields in `EVENT_FIELDS` (kind, foot, severity, raised or cleared). The fields,
their units and the message order are described in docs/fit-export.md.

Wall-clock start (FIT counts seconds from 1989-12-31 00:00 UTC): the recording's
``created_unix_s`` (written as the session starts), a Moticon export's ``# Start time:`` (local
time of this computer's zone: the export names none), and for an interchange CSV, which has
no start time, the file's modification time. `start_unix_s` overrides all of these.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from garmin_fit_sdk import FIT_EPOCH_S, Encoder, Profile

from numbguard import __version__
from numbguard.analysis.pipeline import SessionResult
from numbguard.analysis.risk import is_clearing
from numbguard.errors import BadFile, BadValue, InputError
from numbguard.pads import FOREFOOT_PADS, LACE_PADS
from numbguard.private_files import OWNER_ONLY_MODE
from numbguard.recording import RecordingReader
from numbguard.session.sources import analyse_session, is_recording
from numbguard.types import Alert, PressureChunk, StepMetrics

logger = logging.getLogger(__name__)


# numbguard's developer data id: a fixed UUID, so every file names the same application.
APPLICATION_ID: Final = uuid.uuid5(uuid.NAMESPACE_URL, "numbguard:fit-developer-data")
DEVELOPER_DATA_INDEX: Final = 0

# FIT date_time: seconds since 1989-12-31 UTC in a uint32; below 0x10000000 a relative time.
FIT_MIN_ABSOLUTE_UNIX_S: Final = FIT_EPOCH_S + 0x10000000
FIT_MAX_UNIX_S: Final = FIT_EPOCH_S + 0xFFFFFFFF - 1 - 7 * 86400  # room for a week's session

_MOTICON_START = "# Start time:"
_MOTICON_START_FORMAT = "%d.%m.%Y %H:%M:%S.%f"

StartSource = Literal["given", "recording", "moticon", "file-mtime"]


@dataclass(frozen=True)
class DeveloperField:
    """One numbguard developer field: its number, name and units in the file."""

    number: int
    name: str
    units: str
    base_type: int
    mesg_num: int


_RECORD: Final = int(Profile["mesg_num"]["RECORD"])
_EVENT: Final = int(Profile["mesg_num"]["EVENT"])
# The profile's fit_base_type numbers (float32 = 0x88: base type 8 with the endian bit). The
# SDK's `fit.BASE_TYPE` holds the numbers without that bit; as a field description's
# fit_base_type_id they are not FIT base types, and fitdecode rejects them.
_FLOAT32: Final = 0x88
_STRING: Final = 0x07

# Per step (record messages).
FOOT = DeveloperField(0, "foot", "", _STRING, _RECORD)
LACE_PRESSURE = DeveloperField(1, "lace_pressure", "kPa", _FLOAT32, _RECORD)
FOREFOOT_PEAK = DeveloperField(2, "forefoot_peak", "kPa", _FLOAT32, _RECORD)
CONTACT_TIME = DeveloperField(3, "contact_time", "s", _FLOAT32, _RECORD)
# Per alert (event messages).
ALERT_KIND = DeveloperField(4, "alert_kind", "", _STRING, _EVENT)
ALERT_FOOT = DeveloperField(5, "alert_foot", "", _STRING, _EVENT)
ALERT_SEVERITY = DeveloperField(6, "alert_severity", "", _STRING, _EVENT)
ALERT_STATE = DeveloperField(7, "alert_state", "", _STRING, _EVENT)

RECORD_FIELDS: Final = (FOOT, LACE_PRESSURE, FOREFOOT_PEAK, CONTACT_TIME)
EVENT_FIELDS: Final = (ALERT_KIND, ALERT_FOOT, ALERT_SEVERITY, ALERT_STATE)
DEVELOPER_FIELDS: Final = RECORD_FIELDS + EVENT_FIELDS


def lace_pressure_kpa(step: StepMetrics) -> float | None:
    """The step's lace pressure: the higher lace pad's median through the swing before it
    (the static level `tight_lacing` judges); None without a lace pad."""
    return _highest(step.dorsal_swing_kpa, LACE_PADS)


def forefoot_peak_kpa(step: StepMetrics) -> float | None:
    """The step's forefoot peak: the highest peak of the forefoot pads during the contact."""
    return _highest(step.peak_kpa, FOREFOOT_PADS)


def _highest(values_kpa: dict[str, float], pads: tuple[str, ...]) -> float | None:
    values = [values_kpa[pad] for pad in pads if math.isfinite(values_kpa.get(pad, math.nan))]
    return max(values) if values else None


def cadence_strides_per_min(step: StepMetrics) -> float | None:
    """The step's stride rate (FIT running cadence: strides per minute, one foot's cycles)."""
    if step.stride_s is None or step.stride_s <= 0:
        return None
    return 60.0 / step.stride_s


@dataclass(frozen=True)
class FitSession:
    """What goes into the file: the session's steps (both feet, in time order), its alerts and
    analysis result, the span of its samples and its wall-clock start."""

    steps: tuple[StepMetrics, ...]
    alerts: tuple[Alert, ...]
    result: SessionResult
    first_t_s: float
    last_t_s: float
    start_unix_s: float
    start_source: StartSource
    warning: str | None = None


def session_start_unix_s(path: str | os.PathLike[str]) -> tuple[float, StartSource]:
    """The wall-clock time of session time 0, and where it came from (see the module doc)."""
    if is_recording(path):
        created = RecordingReader(path).session.get("created_unix_s")
        if isinstance(created, int | float) and math.isfinite(created):
            return float(created), "recording"
    else:
        with open(path, "rb") as file:
            first = file.readline(4096).decode("utf-8", "replace").strip()
        if first.startswith(_MOTICON_START):
            text = first[len(_MOTICON_START) :].strip()
            try:
                return datetime.strptime(text, _MOTICON_START_FORMAT).timestamp(), "moticon"
            except ValueError:
                pass
    return os.stat(path).st_mtime, "file-mtime"


def check_start(start_unix_s: float, source: StartSource = "given") -> None:
    """FIT times below 0x10000000 s (before 1998-07) mean time since the device powered on, not
    a date; the encoder would also wrap a time before 1989 into a wrong one. Refuse both."""
    if not FIT_MIN_ABSOLUTE_UNIX_S <= start_unix_s < FIT_MAX_UNIX_S:
        when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=start_unix_s)
        got = when.isoformat(timespec="seconds")
        origin = {"given": "--start", "recording": "the recording's start",
                  "moticon": "the export's start time",
                  "file-mtime": "the file's modification time"}[source]  # fmt: skip
        raise BadValue(
            "start time out of range",
            expected="a start between 1998-07-03 and 2126 (FIT's absolute times); give --start",
            got=f"{got} ({origin})",
            name=origin,
        )


def read_fit_session(
    path: str | os.PathLike[str],
    *,
    start_unix_s: float | None = None,
    on_chunk: Callable[[PressureChunk], None] | None = None,
) -> FitSession:
    """Analyse a session file (recording, interchange CSV, Moticon export) for the FIT file.

    The alerts are the session's own (a recording gives the live session's); the steps are the
    analysis's own, kept by it.
    """
    if start_unix_s is not None:
        check_start(start_unix_s)  # before the long work
    span = [math.inf, -math.inf]

    def take(chunk: PressureChunk) -> None:
        if on_chunk is not None:
            on_chunk(chunk)
        if len(chunk.t_s):
            span[0] = min(span[0], float(chunk.t_s[0]))
            span[1] = max(span[1], float(chunk.t_s[-1]))

    logger.info("analysing %s for the FIT export", path)
    result, warning = analyse_session(path, on_chunk=take, keep_steps=True)
    steps = [step for foot_steps in result.steps.values() for step in foot_steps]
    if not math.isfinite(span[0]):
        raise BadFile("nothing to export", path=path, expected="a session with samples",
                      got="no samples")  # fmt: skip
    source: StartSource = "given"
    if start_unix_s is None:
        start_unix_s, source = session_start_unix_s(path)
        check_start(start_unix_s, source)
    steps.sort(key=lambda step: (step.t_on_s, step.foot))
    logger.info("%d steps and %d alerts to export", len(steps), len(result.alerts))
    return FitSession(
        steps=tuple(steps),
        alerts=result.alerts,
        result=result,
        first_t_s=span[0],
        last_t_s=span[1],
        start_unix_s=start_unix_s,
        start_source=source,
        warning=warning,
    )


def _developer_messages() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data_id = {
        "mesg_num": Profile["mesg_num"]["DEVELOPER_DATA_ID"],
        "application_id": list(APPLICATION_ID.bytes),
        "application_version": _version_number(),
        "developer_data_index": DEVELOPER_DATA_INDEX,
    }
    descriptions = [
        {
            "mesg_num": Profile["mesg_num"]["FIELD_DESCRIPTION"],
            "developer_data_index": DEVELOPER_DATA_INDEX,
            "field_definition_number": field.number,
            "fit_base_type_id": field.base_type,
            "field_name": field.name,
            "units": field.units or None,
            "native_mesg_num": field.mesg_num,
        }
        for field in DEVELOPER_FIELDS
    ]
    return data_id, descriptions


def _version_number() -> int:
    """numbguard's version as one number (major * 10000 + minor * 100 + patch)."""
    parts = [int(part) if part.isdigit() else 0 for part in __version__.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def _cadence_fields(strides_per_min: float | None) -> dict[str, Any]:
    """FIT cadence (whole strides/min) and fractional_cadence (1/128 strides/min)."""
    if strides_per_min is None:
        return {}
    units = round(strides_per_min * 128)
    whole, fraction = divmod(units, 128)
    if whole > 254:  # 255 is FIT's "invalid"
        return {}
    return {"cadence": whole, "fractional_cadence": fraction / 128}


def fit_messages(session: FitSession) -> list[dict[str, Any]]:
    """The messages of the activity file, in file order (`mesg_num` names each one's type)."""
    mesg = Profile["mesg_num"]
    origin_s = session.start_unix_s - FIT_EPOCH_S  # session time 0 in FIT seconds

    def fit_time(t_s: float) -> int:
        return math.floor(origin_s + t_s)

    begin_t_s = min(0.0, session.first_t_s)
    end_t_s = max(session.last_t_s, begin_t_s + session.result.duration_s)
    start, end = fit_time(begin_t_s), fit_time(end_t_s)
    elapsed_s = end_t_s - begin_t_s

    data_id, descriptions = _developer_messages()
    messages: list[dict[str, Any]] = [
        {
            "mesg_num": mesg["FILE_ID"],
            "type": "activity",
            "manufacturer": "development",
            "product": 0,
            "time_created": start,
        },
        data_id,
        *descriptions,
        {
            "mesg_num": mesg["DEVICE_INFO"],
            "timestamp": start,
            "device_index": "creator",
            "manufacturer": "development",
            "product": 0,
            "product_name": f"numbguard {__version__}",
        },
        {"mesg_num": mesg["EVENT"], "timestamp": start, "event": "timer", "event_type": "start"},
    ]

    timed: list[tuple[float, int, dict[str, Any]]] = []
    for step in session.steps:
        developer: dict[int, Any] = {FOOT.number: step.foot, CONTACT_TIME.number: step.contact_s}
        for field, value in (
            (LACE_PRESSURE, lace_pressure_kpa(step)),
            (FOREFOOT_PEAK, forefoot_peak_kpa(step)),
        ):
            if value is not None:
                developer[field.number] = value
        record = {
            "mesg_num": mesg["RECORD"],
            "timestamp": fit_time(step.t_on_s),
            **_cadence_fields(cadence_strides_per_min(step)),
            "developer_fields": developer,
        }
        stance_ms = step.contact_s * 1000.0
        if 0 <= stance_ms * 10 < 0xFFFF:  # uint16 in 0.1 ms; 0xFFFF is "invalid"
            record["stance_time"] = stance_ms
        timed.append((step.t_on_s, 0, record))
    for alert in session.alerts:
        event = {
            "mesg_num": mesg["EVENT"],
            "timestamp": fit_time(alert.t_s),
            "event": "user_marker",
            "event_type": "marker",
            "developer_fields": {
                ALERT_KIND.number: alert.kind,
                ALERT_FOOT.number: alert.foot,
                ALERT_SEVERITY.number: alert.severity,
                ALERT_STATE.number: "cleared" if is_clearing(alert) else "raised",
            },
        }
        timed.append((alert.t_s, 1, event))
    # FIT wants timestamped messages in time order; whole seconds decide, then session time.
    timed.sort(key=lambda item: (item[2]["timestamp"], item[0], item[1]))
    messages += [message for _, _, message in timed]
    last = max([end, *(message["timestamp"] for _, _, message in timed)])

    summary = {
        "start_time": start,
        "total_elapsed_time": elapsed_s,
        "total_timer_time": elapsed_s,
        **_average_cadence(session.result),
    }
    sport = _sport(session.result)
    messages += [
        {"mesg_num": mesg["EVENT"], "timestamp": last, "event": "timer", "event_type": "stop"},
        {"mesg_num": mesg["LAP"], "message_index": 0, "timestamp": last, **summary},
        {
            "mesg_num": mesg["SESSION"],
            "message_index": 0,
            "timestamp": last,
            "sport": sport,
            "sub_sport": "generic",
            "first_lap_index": 0,
            "num_laps": 1,
            **summary,
        },
        {
            "mesg_num": mesg["ACTIVITY"],
            "timestamp": last,
            "num_sessions": 1,
            "type": "manual",
            "event": "activity",
            "event_type": "stop",
            "total_timer_time": elapsed_s,
            "local_timestamp": last + _local_offset_s(session.start_unix_s),
        },
    ]
    return messages


def _average_cadence(result: SessionResult) -> dict[str, Any]:
    if result.cadence_spm is None:
        return {}
    fields = _cadence_fields(result.cadence_spm / 2.0)  # steps/min -> strides/min
    return {f"avg_{name}": value for name, value in fields.items()}


def _sport(result: SessionResult) -> str:
    """running or walking, whichever the feet did longer; generic for neither."""
    seconds = {"running": 0.0, "walking": 0.0}
    for summary in result.feet.values():
        for activity in seconds:
            seconds[activity] += summary.activity_s.get(activity, 0.0)
    best = max(seconds, key=lambda activity: seconds[activity])
    return best if seconds[best] > 0 else "generic"


def _local_offset_s(unix_s: float) -> int:
    """This computer's UTC offset at `unix_s`, for the activity's local_timestamp."""
    offset = datetime.fromtimestamp(unix_s, tz=UTC).astimezone().utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def encode_fit(messages: Iterable[dict[str, Any]]) -> bytes:
    """The messages as FIT bytes (header, definitions, data, CRC) by the SDK's encoder."""
    data_id, descriptions = _developer_messages()
    encoder = Encoder(
        field_descriptions={
            description["field_definition_number"]: {
                "developer_data_id_mesg": data_id,  # type: ignore[dict-item]
                "field_description_mesg": description,  # type: ignore[dict-item]
            }
            for description in descriptions
        }
    )
    for message in messages:
        try:
            encoder.write_mesg(message)
        except ValueError as error:
            raise BadValue(
                "cannot encode a FIT message", expected="values that fit the FIT profile",
                got=f"{error} in {message}", name="FIT message",
            ) from None  # fmt: skip
    return encoder.close()


def _cannot_write(path: str | os.PathLike[str], error: OSError) -> InputError:
    return InputError(
        "cannot write file", expected="a writable path", got=error.strerror or str(error),
        where=str(path),
    )  # fmt: skip


def write_fit(
    target: str | os.PathLike[str],
    session_path: str | os.PathLike[str],
    *,
    start_unix_s: float | None = None,
    on_chunk: Callable[[PressureChunk], None] | None = None,
) -> FitSession:
    """Analyse `session_path` and write it to `target` as a FIT activity file.

    The file is made beside `target` before the analysis (an unwritable place fails at once),
    readable by its owner only (health data, like recordings), and takes `target`'s name only
    when it is complete: a failure leaves no partial file and an existing `target` untouched.
    """
    target = Path(target)
    try:
        fd, part = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), OWNER_ONLY_MODE)  # mkstemp's 0600, whatever the umask
            session = read_fit_session(session_path, start_unix_s=start_unix_s, on_chunk=on_chunk)
            data = encode_fit(fit_messages(session))
            try:
                file.write(data)
                file.flush()
                os.replace(part, target)
            except OSError as error:
                raise _cannot_write(target, error) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        raise
    logger.info("%s: %d bytes", target, len(data))
    return session
