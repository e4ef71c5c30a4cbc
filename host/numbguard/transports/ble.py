"""BLE transport over bleak: scan, connect both insoles, subscribe, control, reconnect.

- Scan for the numbguard service UUID; the name ``NGL-xxxx`` / ``NGR-xxxx`` tells the foot and
  the low 16 bits of the insole id. A device without the service UUID is ignored whatever its
  name.
- Paired insoles (`PairingRegistry`) are remembered by identity: only a remembered address is
  connected, and once connected the insole id it reports (status page 0) must be the
  remembered one. With no pairing yet, the first left and right found are paired.
- The insoles are connected one after the other (BlueZ refuses a second connect while one is
  pending). With ``pair=1`` the first connect pairs; otherwise the link is encrypted from the
  bond. The MTU is acquired before writes are sized (bleak's BlueZ backend reads 23 until then).
- Control frames are written with response, so a refusal (no bond, a full insole) is an error
  rather than silence; only TIME_SYNC goes without, to keep its round trip short. What the
  errors mean is `ble_errors`.
- A lost link is reconnected with exponential backoff; the insole's stream then holds data
  until page 0 says whether it restarted, and the frames missed meanwhile are asked for with
  RESEND (see `link.InsoleLink`). Time sync runs on connecting and then periodically.

Tests inject a virtual radio with ``backend=`` (see `numbguard_lab.bumble_backend`); the host
itself never imports the lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from numbguard.errors import (
    BadUrl,
    DeviceError,
    DeviceNotFound,
    DeviceRefused,
    InputError,
    LinkLost,
    WrongDevice,
)
from numbguard.pads import FOOT_IDS, Foot, parse_feet
from numbguard.protocol.constants import (
    CONTROL_UUID,
    DATA_UUID,
    HEADER_BYTES,
    OP_FORGET_BONDS,
    OP_START,
    OP_TIME_SYNC,
    SERVICE_UUID,
    STATUS_UUID,
)
from numbguard.protocol.decoder import NotificationDecoder
from numbguard.transports.base import InsoleIdentity, Transport
from numbguard.transports.ble_availability import bluetooth_unavailable
from numbguard.transports.ble_errors import NOT_BONDED_HINT, describe, insole_busy
from numbguard.transports.ble_timing import DEFAULT_SCAN_TIMEOUT_S
from numbguard.transports.link import DEFAULT_TIME_SYNC_PERIOD_S, InsoleLink
from numbguard.transports.pairing import PairedInsole, PairingRegistry, default_registry_path

logger = logging.getLogger(__name__)

# Hex digits in either case: the firmware writes lower case.
NAME_PATTERN: Final = re.compile(r"^NG([LR])-([0-9A-Fa-f]{4})$")
DEFAULT_CONNECT_TIMEOUT_S: Final = 10.0
DEFAULT_RECONNECT_FOR_S: Final = 60.0  # give up on a link that stays away this long
# An insole's NimBLE answers a write with Insufficient Resources (ATT 0x11) while its buffers
# are full of notifications (a resend burst): the write is tried again for a while.
BUSY_RETRY_S: Final = 10.0
CONNECTING_POLL_S: Final = 0.02  # how often a request waiting for a connect looks again
FIRST_BACKOFF_S: Final = 0.05
MAX_BACKOFF_S: Final = 2.0
# Closing waits this long for a task to end and for each disconnect: a stack that does not
# answer must not keep the command from ending.
CLOSE_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class BleakBackend:
    """bleak backend classes to inject with ``backend=`` (None = the platform's own).

    `kwargs` reach the backend classes as extra keyword arguments of `BleakScanner` and
    `BleakClient`.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """An advertiser that may be an insole: what its advertisement claims."""

    device: BLEDevice
    foot: Foot
    id_low16: int
    name: str


def parse_insole_name(name: str | None) -> tuple[Foot, int] | None:
    """(foot, low 16 bits of the insole id) from ``NGL-xxxx`` / ``NGR-xxxx``, else None."""
    match = NAME_PATTERN.match(name or "")
    if match is None:
        return None
    return ("left" if match[1] == "L" else "right"), int(match[2], 16)


def _scan_error(url: str, error: BaseException) -> DeviceError:
    """Bluetooth missing as a whole (`ble_availability`), else the scan's own failure."""
    unavailable = bluetooth_unavailable(error)
    if unavailable is not None:
        return unavailable
    return DeviceRefused(url, "scanning for insoles", str(error))


async def acquire_mtu(client: BleakClient) -> None:
    """BlueZ only: bleak learns the exchanged MTU by acquiring a characteristic; until then
    `mtu_size` reads 23. Other backends know it on connecting."""
    backend = getattr(client, "_backend", None)
    acquire = getattr(backend, "_acquire_mtu", None)
    if acquire is not None:
        with contextlib.suppress(BleakError, EOFError, OSError):
            await acquire()


class _PairingRefused(DeviceError):
    """`pair()` itself failed: no stale bond of this host's to drop, the insole refused."""


class _BleLink:
    """One connected (or reconnecting) insole."""

    def __init__(self, candidate: Candidate, link: InsoleLink) -> None:
        self.candidate = candidate
        self.link = link
        self.client: BleakClient | None = None
        self.control_char: BleakGATTCharacteristic | None = None
        self.max_write_bytes = 20
        self.data_decoder = NotificationDecoder()
        self.status_decoder = NotificationDecoder()
        self.connected = asyncio.Event()
        # While a connect is under way, requests wait for it: the insole streams from the
        # moment the link is encrypted, so its first frames (and the host's request for the
        # history before them) come before the subscriptions are done.
        self.connecting = False
        self.reconnect_task: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.paired = False  # paired on this transport's first connect (pair=1)

    @property
    def address(self) -> str:
        return self.candidate.device.address


class BleTransport(Transport):
    """Both insoles over BLE (or the feet named in `feet`)."""

    def __init__(
        self,
        url: str,
        *,
        addresses: list[str] | None = None,
        pair: bool = False,
        feet: tuple[Foot, ...] = FOOT_IDS,
        backend: BleakBackend | None = None,
        registry: PairingRegistry | None = None,
        scan_timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        reconnect_for_s: float = DEFAULT_RECONNECT_FOR_S,
        time_sync_period_s: float = DEFAULT_TIME_SYNC_PERIOD_S,
    ) -> None:
        super().__init__(url)
        self.addresses = [address.upper() for address in addresses or []]
        self.pair = pair
        self.feet = feet
        self.backend = backend or BleakBackend()
        self.registry = (
            registry if registry is not None else PairingRegistry(default_registry_path())
        )
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_for_s = reconnect_for_s
        self.time_sync_period_s = time_sync_period_s
        self.ignored: dict[str, str] = {}  # address -> why an advertiser was not used
        self._links: dict[str, _BleLink] = {}
        self._closing = False
        self._sync_task: asyncio.Task[None] | None = None

    @property
    def insoles(self) -> tuple[InsoleIdentity, ...]:
        return tuple(ble.link.identity for ble in self._links.values() if ble.link.identity)

    def reconnects(self, link: str) -> int:
        return self._links[link].reconnects

    async def discover(self) -> dict[str, tuple[str | None, int, Candidate | str]]:
        """Scan for `scan_timeout_s` without connecting (``numbguard scan``): every advertiser
        of the numbguard service by address, with its name, RSSI, and the candidate it would
        be for this transport or why it would not be used."""
        heard: dict[str, tuple[str | None, int, Candidate | str]] = {}

        def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
            heard[device.address] = (adv.local_name, adv.rssi, self._judge(device, adv))

        scanner = BleakScanner(
            on_advertisement,
            service_uuids=[SERVICE_UUID],
            backend=self.backend.scanner,
            **self.backend.kwargs,
        )
        try:
            async with scanner:
                await asyncio.sleep(self.scan_timeout_s)
        except (BleakError, OSError) as error:
            raise _scan_error(self.url, error) from error
        return heard

    # -- opening -----------------------------------------------------------------------------

    async def _open(self) -> None:
        if self.pair:
            for foot in self.feet:  # pairing chooses these feet's insoles afresh
                self.registry.forget(foot)
        candidates = await self._scan()
        # One after the other: BlueZ answers a second connect while one is pending with
        # org.bluez.Error.InProgress.
        try:
            for candidate in candidates:
                await self._connect_new(candidate)
        except BaseException:
            await self._close()
            raise
        self._sync_task = asyncio.get_running_loop().create_task(self._sync_forever())

    def _judge(self, device: BLEDevice, adv: AdvertisementData) -> Candidate | str:
        """The candidate an advertisement offers, or why it is not one."""
        if SERVICE_UUID not in adv.service_uuids:
            return "no numbguard service in its advertisement"
        parsed = parse_insole_name(adv.local_name)
        if parsed is None:
            # BlueZ may show the name an insole was given with SET_NAME (its GAP name, read on
            # connecting) instead of the advertised one: a paired insole is known by address.
            paired_here = self.registry.paired_at(device.address)
            if paired_here is None:
                return f"name {adv.local_name!r} is not NGL-xxxx / NGR-xxxx"
            parsed = (paired_here.foot, paired_here.insole_id & 0xFFFF)
        foot, id_low16 = parsed
        if foot not in self.feet:
            return f"a {foot} insole; looking for {', '.join(self.feet)}"
        if self.addresses:
            if device.address.upper() not in self.addresses:
                return "not one of the addresses asked for"
        elif (paired := self.registry.get(foot)) is not None and (
            device.address.upper() != paired.address.upper()
            or id_low16 != paired.insole_id & 0xFFFF
        ):
            return (
                f"advertises as {adv.local_name} but is not the paired {foot} insole "
                f"({paired.name} at {paired.address})"
            )
        return Candidate(device, foot, id_low16, adv.local_name or "")

    async def _scan(self) -> list[Candidate]:
        found: dict[Foot, Candidate] = {}
        all_found = asyncio.Event()

        def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
            verdict = self._judge(device, adv)
            if isinstance(verdict, str):
                self.ignored[device.address] = verdict
            elif verdict.foot not in found:
                found[verdict.foot] = verdict
                if all(foot in found for foot in self.feet):
                    all_found.set()

        scanner = BleakScanner(
            on_advertisement,
            service_uuids=[SERVICE_UUID],
            backend=self.backend.scanner,
            **self.backend.kwargs,
        )
        try:
            async with scanner:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_found.wait(), self.scan_timeout_s)
        except (BleakError, OSError) as error:
            raise _scan_error(self.url, error) from error
        missing = [foot for foot in self.feet if foot not in found]
        if missing:
            heard = "; ".join(f"{a}: {why}" for a, why in self.ignored.items()) or "nothing"
            raise DeviceNotFound(
                f"{' or '.join(missing)} insole on {self.url}", self.scan_timeout_s,
                f"heard: {heard}",
            )  # fmt: skip
        return [found[foot] for foot in self.feet]

    async def _connect_new(self, candidate: Candidate) -> None:
        link = self._new_link(candidate.device.address, name=candidate.name)
        ble = _BleLink(candidate, link)
        self._links[ble.address] = ble
        await self._connect(ble)
        identity = link.identity
        assert identity is not None and identity.insole_id is not None
        paired = self.registry.get(candidate.foot)
        expected = ""
        if identity.foot != candidate.foot or identity.insole_id & 0xFFFF != candidate.id_low16:
            expected = f"the {candidate.foot} insole ...{candidate.id_low16:04x} its name says"
        elif paired is not None and not self.addresses and paired.insole_id != identity.insole_id:
            expected = f"the paired insole {paired.insole_id:#010x}"
        if expected:
            await self._disconnect(ble)
            raise WrongDevice(
                f"{candidate.name} at {ble.address} (not used)", expected=expected,
                got=f"insole {identity.insole_id:#010x} ({identity.foot})",
            )  # fmt: skip
        if paired is None:
            self.registry.remember(
                PairedInsole(candidate.foot, identity.insole_id, ble.address, candidate.name)
            )
        await self.control(ble.address, OP_START)
        await link.time_sync()

    async def _connect(self, ble: _BleLink) -> None:
        """Connect (pairing first if asked, else on the stored bond), acquire the MTU,
        discover, subscribe, and learn the insole's identity."""
        if ble.client is None:
            ble.client = self._client_for(ble)
        ble.connecting = True
        pairing = self.pair and ble.reconnects == 0 and not ble.paired
        try:
            try:
                await self._connect_steps(ble, ble.client)
            except _PairingRefused:
                raise
            except DeviceError as error:
                if not pairing or NOT_BONDED_HINT not in str(error):
                    raise
                await self._drop_stale_bond(ble)
                assert ble.client is not None
                await self._connect_steps(ble, ble.client)
        finally:
            ble.connecting = False

    def _client_for(self, ble: _BleLink) -> BleakClient:
        return BleakClient(
            ble.candidate.device,
            lambda _client: self._on_disconnect(ble),
            timeout=self.connect_timeout_s,
            backend=self.backend.client,
            **self.backend.kwargs,
        )

    async def _drop_stale_bond(self, ble: _BleLink) -> None:
        """This host still holds a bond the insole forgot: drop it and find the insole again
        (BlueZ's RemoveDevice deletes the device object with the bond, so the old client has
        nothing left to connect to until discovery hears the insole again)."""
        logger.info("%s: removing this host's stale bond, pairing again", ble.address)
        assert ble.client is not None
        with contextlib.suppress(Exception):
            await ble.client.unpair()
        ble.paired = False  # `pair()` found the stale bond and did nothing: pair for real
        try:
            options: dict[str, Any] = dict(self.backend.kwargs)
            if self.backend.scanner is not None:
                options["backend"] = self.backend.scanner
            device = await BleakScanner.find_device_by_address(
                ble.address, timeout=self.scan_timeout_s, **options
            )
        except (BleakError, OSError) as error:
            raise _scan_error(self.url, error) from error
        if device is None:
            raise DeviceNotFound(
                ble.address, self.scan_timeout_s,
                "not heard again after removing this host's stale bond; keep the insole close, "
                "then run `numbguard pair`",
            )  # fmt: skip
        ble.candidate = replace(ble.candidate, device=device)
        ble.client = self._client_for(ble)

    async def _connect_steps(self, ble: _BleLink, client: BleakClient) -> None:
        pairing = self.pair and ble.reconnects == 0 and not ble.paired
        try:
            await client.connect()
            if pairing:
                try:
                    await client.pair()
                except BleakError as error:
                    raise _PairingRefused(
                        f"{ble.address}: pairing failed: {describe(error)}"
                    ) from error
                ble.paired = True
            await acquire_mtu(client)
            ble.link.att_mtu = client.mtu_size
            control = client.services.get_characteristic(CONTROL_UUID)
            if control is None:
                raise WrongDevice(ble.address, expected="the numbguard control characteristic",
                                  got="a device without it")  # fmt: skip
            ble.control_char = control
            # Read after the MTU is known: before it, BlueZ sizes writes for MTU 23.
            ble.max_write_bytes = control.max_write_without_response_size
            await client.start_notify(DATA_UUID, self._notify_handler(ble, ble.data_decoder))
            await client.start_notify(STATUS_UUID, self._notify_handler(ble, ble.status_decoder))
        except (BleakError, DeviceError) as error:
            with contextlib.suppress(Exception):
                await client.disconnect()
            if isinstance(error, DeviceError):
                raise
            raise DeviceRefused(ble.address, "connecting", describe(error)) from error
        ble.connected.set()
        logger.info("%s: connected (%s)", ble.address, ble.candidate.name)
        try:
            await ble.link.identify()
        except DeviceError as error:
            dropped = not client.is_connected
            ble.connected.clear()  # first, so this disconnect starts no reconnection
            with contextlib.suppress(Exception):
                await client.disconnect()
            if dropped:
                raise LinkLost(ble.address, detail=NOT_BONDED_HINT) from error
            raise

    def _notify_handler(
        self, ble: _BleLink, decoder: NotificationDecoder
    ) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def on_notification(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            received_s = time.monotonic()
            for decoded in decoder.feed_raw(data):
                ble.link.on_frame(decoded, received_s)

        return on_notification

    # -- losing and regaining a link ---------------------------------------------------------

    def _on_disconnect(self, ble: _BleLink) -> None:
        if self._closing or not ble.connected.is_set():
            return
        ble.connected.clear()
        logger.info("%s: link lost; reconnecting for up to %g s", ble.address, self.reconnect_for_s)
        ble.link.lost(LinkLost(ble.address, detail="reconnecting"))
        ble.reconnect_task = asyncio.get_running_loop().create_task(self._reconnect(ble))

    async def _reconnect(self, ble: _BleLink) -> None:
        deadline_s = time.monotonic() + self.reconnect_for_s
        backoff_s = FIRST_BACKOFF_S
        before = ble.link.identity
        while not self._closing:
            ble.link.reconnected()
            try:
                await self._connect(ble)
            except DeviceError as error:
                logger.debug("%s: reconnect failed (%s); again in %g s", ble.address, error,
                             backoff_s)  # fmt: skip
                if time.monotonic() + backoff_s > deadline_s:
                    self._fail(LinkLost(ble.address, self.reconnect_for_s, str(error)))
                    return
                await asyncio.sleep(backoff_s)
                backoff_s = min(MAX_BACKOFF_S, backoff_s * 2)
                continue
            after = ble.link.identity
            if before is not None and after is not None and after.insole_id != before.insole_id:
                await self._disconnect(ble)
                self._fail(WrongDevice(
                    f"{ble.address} (reconnected)", expected=f"insole {before.insole_id}",
                    got=f"insole {after.insole_id}",
                ))  # fmt: skip
                return
            ble.reconnects += 1
            logger.info("%s: reconnected (%d so far)", ble.address, ble.reconnects)
            with contextlib.suppress(DeviceError):
                await self.control(ble.address, OP_START)
                await ble.link.time_sync()
            return

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.time_sync_period_s)
            for ble in list(self._links.values()):
                if ble.connected.is_set():
                    with contextlib.suppress(DeviceError):
                        await ble.link.time_sync()

    # -- sending and closing -----------------------------------------------------------------

    async def _send(self, link: str, frame: bytes) -> None:
        ble = self._links.get(link)
        if ble is None:
            raise DeviceNotFound(link, None, f"no insole of {self.url} there")
        while ble.connecting and not ble.connected.is_set():
            await asyncio.sleep(CONNECTING_POLL_S)
        if not ble.connected.is_set() or ble.client is None or ble.control_char is None:
            raise LinkLost(link, detail="down")
        # With response, so a refused write (security, a dropped link) is an error, not
        # silence; TIME_SYNC without, to keep its round trip short.
        response = frame[HEADER_BYTES] != OP_TIME_SYNC or len(frame) > ble.max_write_bytes
        backoff_s = FIRST_BACKOFF_S
        busy_until_s = time.monotonic() + BUSY_RETRY_S
        while True:
            try:
                await ble.client.write_gatt_char(ble.control_char, frame, response=response)
                return
            except BleakError as error:
                if time.monotonic() < busy_until_s and insole_busy(error):
                    await asyncio.sleep(backoff_s)  # NimBLE out of buffers under a burst
                    backoff_s = min(MAX_BACKOFF_S, backoff_s * 2)
                    continue
                raise DeviceRefused(link, "control write", describe(error)) from error

    async def _disconnect(self, ble: _BleLink) -> None:
        ble.connected.clear()
        if ble.client is not None:
            try:
                await asyncio.wait_for(ble.client.disconnect(), CLOSE_TIMEOUT_S)
            except TimeoutError:
                logger.warning("%s: no disconnect in %g s; leaving the link", ble.link.link,
                               CLOSE_TIMEOUT_S)  # fmt: skip
            except Exception as error:  # closing must not raise
                logger.info("%s: disconnect failed: %s", ble.link.link, error)

    async def forget_bonds(self) -> list[InsoleIdentity]:
        """``numbguard forget``: every connected insole deletes its bonds (FORGET_BONDS), then
        this host drops its own bond with it (BlueZ: the device is removed) and the pairing
        registry forgets it. Close the transport afterwards; the insoles drop their links."""
        forgotten: list[InsoleIdentity] = []
        for address, ble in list(self._links.items()):
            await self.control(address, OP_FORGET_BONDS)
            if ble.link.identity is not None:
                forgotten.append(ble.link.identity)
        self._closing = True  # the insoles end the links now: no reconnecting
        for ble in self._links.values():
            if ble.client is not None:
                with contextlib.suppress(Exception):
                    await ble.client.unpair()
        for identity in forgotten:
            self.registry.forget(identity.foot)
        return forgotten

    async def _close(self) -> None:
        self._closing = True
        tasks = [self._sync_task] + [ble.reconnect_task for ble in self._links.values()]
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, CLOSE_TIMEOUT_S)
        for ble in self._links.values():
            ble.link.cancel()
            await self._disconnect(ble)


URL_FORMS: Final = (
    "ble://",
    "ble://AA:BB:CC:DD:EE:FF,11:22:33:44:55:66",
    "ble://?pair=1",
    "ble://?feet=left",
)


def from_url(url: str, **options: Any) -> BleTransport:
    """``ble://[ADDRESS[,ADDRESS]][?pair=1][&feet=left,right]``; `options` as `BleTransport`."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"pair", "feet"}
    if unknown:
        raise BadUrl("unknown ble option", expected="pair, feet", got=", ".join(unknown),
                     url=url)  # fmt: skip
    try:
        feet = parse_feet(query.get("feet", "left,right"), where=url)
    except InputError as error:
        raise BadUrl(error.message, url=url, expected=error.expected, got=error.got) from None
    pair = query.get("pair", "0")
    if pair not in ("0", "1"):
        raise BadUrl("bad pair option", expected="pair=0 or pair=1", got=pair, url=url)
    addresses = [a for a in (parts.netloc + parts.path).split(",") if a]
    for address in addresses:
        if not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f-]{36}", address):
            raise BadUrl("not a BLE address", expected=" or ".join(URL_FORMS),
                         got=repr(address), url=url)  # fmt: skip
    return BleTransport(
        url,
        addresses=addresses,
        pair=pair == "1",
        feet=feet,
        **options,
    )
