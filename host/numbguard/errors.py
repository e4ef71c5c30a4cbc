"""One error tree for the whole package: every error numbguard raises is a `NumbguardError`.

Errors carry structured fields (`expected`, `got`, `where`) so a caller can act on them, and a
message that says what was expected and what came, e.g.
``data.csv line 7, column 3 (left.heel): not a number (expected a pressure in kPa; got 'abc')``.
"""

from __future__ import annotations


class NumbguardError(Exception):
    """Base of every error raised by numbguard."""


class InputError(NumbguardError):
    """Bad input: a file, a frame, an argument or a config value that does not fit its form."""

    def __init__(self, message: str, *, expected: str = "", got: str = "", where: str = "") -> None:
        text = f"{where}: {message}" if where else message
        details = "; ".join(
            part for part in (expected and f"expected {expected}", got and f"got {got}") if part
        )
        super().__init__(f"{text} ({details})" if details else text)
        self.message = message
        self.expected = expected
        self.got = got
        self.where = where


class DeviceError(NumbguardError):
    """An insole or a link to one did not behave: not found, refused, timed out, disconnected."""
