"""Lossless session recordings: the bytes each insole sent, when, and what the host made of it."""

from numbguard.recording.format import TAG_NAMES, Channel, RecordType, checked_tags, session_tags
from numbguard.recording.reader import Damage, FrameRecord, JsonRecord, RecordingReader
from numbguard.recording.writer import RecordingWriter

__all__ = [
    "TAG_NAMES",
    "Channel",
    "Damage",
    "FrameRecord",
    "JsonRecord",
    "RecordType",
    "RecordingReader",
    "RecordingWriter",
    "checked_tags",
    "session_tags",
]
