"""Lossless session recordings: the bytes each insole sent, when, and what the host made of it."""

from numbguard.recording.format import Channel, RecordType
from numbguard.recording.reader import Damage, FrameRecord, JsonRecord, RecordingReader
from numbguard.recording.writer import RecordingWriter

__all__ = [
    "Channel",
    "Damage",
    "FrameRecord",
    "JsonRecord",
    "RecordType",
    "RecordingReader",
    "RecordingWriter",
]
