"""What a bleak error from a connected insole means: the insole out of buffers for a moment, or
the insole refusing this host (no bond), and what to tell the runner.

bleak 3.1 on BlueZ raises, for an ATT error in reply to a read or a write (bleak's
`bluezdbus.utils.assert_gatt_reply`, from bluetoothd's `create_gatt_dbus_error` in
src/gatt-client.c):

- ``BleakGATTProtocolError(code)`` for most codes; NimBLE's 0x11 Insufficient Resources (its
  buffers full under a burst of notifications) comes this way;
- ``BleakDBusError("org.bluez.Error.NotPermitted", ["Not paired"])`` for 0x05, 0x0C and 0x0F
  (insufficient authentication, key size, encryption), once bluetoothd's own attempt to raise
  the link's security has failed (src/shared/att.c `change_security`).

`Device1.Pair` fails with ``org.bluez.Error.Authentication{Failed,Rejected,Canceled,Timeout}``
(src/device.c `new_authentication_return`); the firmware refusing a pairing outside its
pairing window drops the link, which bluetoothd reports as Canceled.
"""

from __future__ import annotations

from typing import Final

from bleak.exc import BleakError, BleakGATTProtocolError, BleakGATTProtocolErrorCode

NOT_BONDED_HINT: Final = (
    "it does not hold this host's bond (paired elsewhere, or its bonds were forgotten); "
    "hold its button for 3 s to open pairing, then run `numbguard pair`"
)

_SECURITY_CODES: Final = frozenset({
    BleakGATTProtocolErrorCode.INSUFFICIENT_AUTHENTICATION,
    BleakGATTProtocolErrorCode.INSUFFICIENT_ENCRYPTION,
    BleakGATTProtocolErrorCode.INSUFFICIENT_ENCRYPTION_KEY_SIZE,
})  # fmt: skip
# Words in the errors bluetoothd (and bumble, in the lab) give when security fails.
_SECURITY_WORDS: Final = (
    "Not paired", "AuthenticationFailed", "AuthenticationRejected", "AuthenticationCanceled",
    "AuthenticationTimeout", "PIN_OR_KEY_MISSING", "PAIRING_NOT_ALLOWED",
    "encryption with the stored bond failed",
)  # fmt: skip


def _protocol_code(error: BaseException) -> BleakGATTProtocolErrorCode | None:
    return error.code if isinstance(error, BleakGATTProtocolError) else None


def insole_busy(error: BleakError) -> bool:
    """The insole answered ATT Insufficient Resources: worth retrying in a moment."""
    return _protocol_code(error) == BleakGATTProtocolErrorCode.INSUFFICIENT_RESOURCE


def insole_refuses_this_host(error: BaseException) -> bool:
    """The insole, or the pairing with it, refused this host for want of a bond."""
    if _protocol_code(error) in _SECURITY_CODES:
        return True
    text = str(error)
    return any(word in text for word in _SECURITY_WORDS)


def describe(error: BaseException) -> str:
    """The error's text, with what to do when it is the insole refusing this host."""
    if isinstance(error, BleakGATTProtocolError):
        text = f"ATT error {int(error.code):#04x} ({error.args[1]})"
    else:
        text = str(error)
    if insole_refuses_this_host(error):
        return f"{text} ({NOT_BONDED_HINT})"
    return text
