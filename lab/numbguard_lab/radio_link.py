"""The virtual LE radio between the lab's controllers: bumble's `LocalLink` with a radio's timing,
correct addressing, and scripted faults.

bumble's `LocalLink` hands every ACL packet over at once, reports each one sent at once, and
stamps LE data with the sender controller's *random* address. A radio does none of that:

- **Addressing.** LE data carries the address the sender uses on that connection, so an
  insole advertising with its public address (an ESP32's eFuse MAC) is reachable.
- **Connection events.** Data moves only at connection events, every
  `RadioTiming.connection_interval_s` (BlueZ asks for 30-50 ms: the kernel's
  ``le_conn_min_interval`` 0x0018 and ``le_conn_max_interval`` 0x0028, in 1.25 ms units), at
  most `pdus_per_event` PDUs each way per event. A controller reports a packet completed
  (HCI Number Of Completed Packets) only once its event carried it, so the host stack's
  buffers fill and NimBLE's `gatts_notify` raises ENOMEM under load, as on a board.
- **Advertising.** At the interval the host set (HCI units of 0.625 ms; bumble 0.236 reads
  them as ms) plus the 0-10 ms advDelay of Vol 6, Part B, 4.4.2.2.1.
- **Losing a link.** A link that stops carrying packets ends on both sides with Connection
  Timeout (0x08) after `supervision_timeout_s` (BlueZ's default 420 ms, kernel
  ``le_supv_timeout`` 0x002a in 10 ms units).

Faults (`RadioFaults`) act here, below both hosts: notifications of data frames lost on the
air, the insole out of reach for a while (no advertising heard, the link times out), and radio
stalls (no connection event carries anything, so back-pressure reaches the firmware).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from bumble import hci, ll
from bumble.controller import Connection, Controller, LegacyAdvertiser
from bumble.core import PhysicalTransport
from bumble.link import LocalLink

from numbguard.errors import InputError

logger = logging.getLogger(__name__)

CONNECTION_TIMEOUT: Final = 0x08  # HCI error code: supervision timeout
_ATT_CID: Final = 0x0004
_ATT_HANDLE_VALUE_NOTIFICATION: Final = 0x1B
_ADV_UNIT_S: Final = 0.000625
_ADV_DELAY_MAX_S: Final = 0.010


@dataclass(frozen=True)
class RadioTiming:
    """How the virtual radio moves data (module docstring); `None` interval = no timing."""

    connection_interval_s: float | None = 0.030
    supervision_timeout_s: float = 0.420
    pdus_per_event: int = 6  # a judgement: ESP32 and laptop controllers carry 4-8 per event

    def __post_init__(self) -> None:
        interval = self.connection_interval_s
        if interval is not None and not 0.0075 <= interval <= 4.0:
            raise InputError("bad connection interval", expected="7.5 ms to 4 s (or None)",
                             got=repr(interval))  # fmt: skip
        if self.pdus_per_event < 1:
            raise InputError("bad PDUs per event", expected=">= 1", got=str(self.pdus_per_event))


NO_TIMING: Final = RadioTiming(connection_interval_s=None)


@dataclass(frozen=True)
class RadioFaults:
    """Faults on one insole's radio, in insole seconds from its first connection.

    `notify_loss`: share (0-1) of notifications carrying a data frame lost on the air (status
    and replies are not touched, so control keeps working). `link_drops`: (at_s, down_s): the
    insole is out of reach for down_s (the link times out, its advertising is not heard).
    `stalls`: (at_s, for_s): no connection event carries anything, so the firmware meets
    ENOMEM back-pressure.
    """

    notify_loss: float = 0.0
    link_drops: tuple[tuple[float, float], ...] = ()
    stalls: tuple[tuple[float, float], ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.notify_loss < 1.0:
            raise InputError("bad notification loss", expected="a share from 0 to below 1",
                             got=repr(self.notify_loss))  # fmt: skip
        for kind, spans in (("link drop", self.link_drops), ("stall", self.stalls)):
            for at_s, for_s in spans:
                if at_s < 0 or for_s <= 0:
                    raise InputError(f"bad {kind}", expected="(at_s >= 0, for_s > 0)",
                                     got=repr((at_s, for_s)))  # fmt: skip


@dataclass
class RadioCounters:
    """What happened on one controller's radio."""

    pdus_sent: int = 0
    notifications_lost: int = 0
    connections: int = 0
    link_drops: int = 0
    supervision_timeouts: int = 0
    # When (event loop time) the insole was in reach again after each link drop, and from
    # then to the next connection.
    back_in_reach_at_s: list[float] = field(default_factory=list)
    reconnected_after_s: list[float] = field(default_factory=list)


def is_notification(pdu: bytes) -> bool:
    """Whether an L2CAP PDU is an ATT Handle Value Notification."""
    return len(pdu) >= 5 and int.from_bytes(pdu[2:4], "little") == _ATT_CID and (
        pdu[4] == _ATT_HANDLE_VALUE_NOTIFICATION
    )


def _is_data_notification(pdu: bytes) -> bool:
    """An L2CAP PDU holding an ATT notification whose value is a numbguard data frame (kind 0
    in bits 7-6 of the frame's second byte)."""
    return len(pdu) >= 4 + 3 + 2 and is_notification(pdu) and pdu[8] >> 6 == 0


class _TimedAdvertiser(LegacyAdvertiser):
    """Legacy advertising at the host's interval, in 0.625 ms units, plus advDelay."""

    def _on_timer_fired(self) -> None:
        self.send_advertising_data()
        controller = self.controller
        delay_s = self.advertising_interval_min * _ADV_UNIT_S
        if isinstance(controller, TimedController):
            delay_s += controller.radio_random.uniform(0.0, _ADV_DELAY_MAX_S)
            delay_s /= controller.radio_link.time_scale
        self.timer_handle = asyncio.get_running_loop().call_later(
            max(delay_s, 0.005), self._on_timer_fired
        )


class TimedController(Controller):
    """A bumble virtual controller whose ACL data waits for connection events (see the
    module docstring). `on_link` must be a `RadioLink`."""

    def __init__(self, name: str, *, link: RadioLink, **kwargs: Any) -> None:
        super().__init__(name, link=link, **kwargs)
        self.radio_link = link
        self.radio_random = random.Random(name)
        self.le_legacy_advertiser = _TimedAdvertiser(self)
        # ACL buffers this controller offers its host (HCI LE Read Buffer Size), and their
        # length with the data length extension, as an ESP32's controller reports.
        self.le_acl_data_packet_length = 251
        self.total_num_le_acl_data_packets = 12
        self.counters = RadioCounters()
        self.in_reach = True
        self._queues: dict[int, collections.deque[hci.HCI_AclDataPacket]] = {}
        self._events: dict[int, asyncio.TimerHandle] = {}
        self._anchors: dict[int, float] = {}
        self.back_in_reach_at: float | None = None

    # -- connection events -------------------------------------------------------------------

    def on_hci_acl_data_packet(self, packet: hci.HCI_AclDataPacket) -> None:
        connection = self.find_connection_by_handle(packet.connection_handle)
        if connection is None:
            logger.warning("%s: ACL data for unknown handle %#x", self.name,
                           packet.connection_handle)  # fmt: skip
            return
        interval = self.radio_link.interval_wall_s
        if interval is None:
            connection.on_hci_acl_data_packet(packet)
            return
        handle = connection.handle
        self._queues.setdefault(handle, collections.deque()).append(packet)
        if handle not in self._events:
            self._schedule_event(handle, interval)

    def _schedule_event(self, handle: int, interval: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        anchor = self._anchors.setdefault(handle, now)
        events_done = int((now - anchor) / interval) + 1
        self._events[handle] = loop.call_at(anchor + events_done * interval,
                                            self._connection_event, handle)  # fmt: skip

    def _connection_event(self, handle: int) -> None:
        self._events.pop(handle, None)
        connection = self.find_connection_by_handle(handle)
        queue = self._queues.get(handle)
        if connection is None or not queue:
            self._queues.pop(handle, None)
            return
        link = self.radio_link
        if link.moving(self, connection):
            sent: list[int] = []
            for _ in range(min(len(queue), link.timing.pdus_per_event)):
                packet = queue.popleft()
                connection.assembler.feed_packet(packet)
                sent.append(handle)
            self.counters.pdus_sent += len(sent)
            self.send_hci_packet(hci.HCI_Number_Of_Completed_Packets_Event(
                connection_handles=[handle], num_completed_packets=[len(sent)]
            ))  # fmt: skip
        interval = link.interval_wall_s
        if queue and interval is not None:
            self._schedule_event(handle, interval)

    def forget_connection(self, handle: int) -> None:
        timer = self._events.pop(handle, None)
        if timer is not None:
            timer.cancel()
        self._queues.pop(handle, None)
        self._anchors.pop(handle, None)

    def on_le_disconnected(self, connection: Connection, reason: int) -> None:
        self.forget_connection(connection.handle)
        super().on_le_disconnected(connection, reason)

    def on_le_connect_ind(self, packet: ll.ConnectInd) -> None:
        before = set(self.le_connections)
        super().on_le_connect_ind(packet)
        if set(self.le_connections) != before:
            self._connected()

    def create_le_connection(self, peer_address: hci.Address) -> None:
        before = set(self.le_connections)
        super().create_le_connection(peer_address)
        if set(self.le_connections) != before:
            self._connected()

    def _connected(self) -> None:
        self.counters.connections += 1
        if self.back_in_reach_at is not None:
            now = asyncio.get_running_loop().time()
            self.counters.reconnected_after_s.append(now - self.back_in_reach_at)
            self.back_in_reach_at = None

    def send_advertising_pdu(self, packet: ll.AdvertisingPdu) -> None:
        if self.in_reach:
            super().send_advertising_pdu(packet)


class RadioLink(LocalLink):
    """`LocalLink` with the sender's own address on LE data, the `RadioTiming`, and faults."""

    def __init__(self, timing: RadioTiming | None = None, *, time_scale: int = 1) -> None:
        """time_scale: how many times faster than real time the insoles' clocks run; the
        radio's timing (in insole time) runs as fast, so what a connection event carries per
        insole second stays what it is on a board."""
        super().__init__()  # type: ignore[no-untyped-call]
        self.timing = timing or RadioTiming()
        self.time_scale = time_scale
        interval = self.timing.connection_interval_s
        self.interval_wall_s = None if interval is None else interval / time_scale
        self.supervision_wall_s = self.timing.supervision_timeout_s / time_scale
        self._loss: dict[str, tuple[float, random.Random]] = {}  # controller name ->
        self._stalled: set[str] = set()
        # Sees every LE PDU the air delivers: (sender, destination address, L2CAP PDU).
        self.on_pdu: Callable[[Controller, hci.Address, bytes], None] | None = None

    def send_acl_data(
        self,
        sender_controller: Controller,
        destination_address: hci.Address,
        transport: PhysicalTransport,
        data: bytes,
    ) -> None:
        if transport != PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        connection = sender_controller.le_connections.get(destination_address)
        if connection is None:
            return  # the link went while the PDU waited
        loss = self._loss.get(sender_controller.name)
        share, dice = loss if loss is not None else (0.0, None)
        if dice is not None and share > 0 and _is_data_notification(data) and dice.random() < share:
            if isinstance(sender_controller, TimedController):
                sender_controller.counters.notifications_lost += 1
            return
        destination = self.find_le_controller(destination_address)
        if destination is None:
            return
        if self.on_pdu is not None:
            self.on_pdu(sender_controller, destination_address, data)
        source_address = connection.self_address
        asyncio.get_running_loop().call_soon(
            destination.on_link_acl_data, source_address, transport, data
        )

    # -- faults ------------------------------------------------------------------------------

    def moving(self, controller: Controller, connection: Connection) -> bool:
        """Whether this connection's events carry data now (not stalled, both in reach)."""
        if controller.name in self._stalled:
            return False
        peer = self.find_le_controller(connection.peer_address)
        if peer is not None and peer.name in self._stalled:
            return False
        return not (isinstance(controller, TimedController) and not controller.in_reach)

    def set_notify_loss(self, controller: Controller, share: float, seed: int) -> None:
        self._loss[controller.name] = (share, random.Random(seed))

    def stall(self, controller: Controller, stalled: bool) -> None:
        if stalled:
            self._stalled.add(controller.name)
        else:
            self._stalled.discard(controller.name)
            if isinstance(controller, TimedController):
                interval = self.interval_wall_s
                for handle in list(controller._queues):
                    if handle not in controller._events and interval is not None:
                        controller._schedule_event(handle, interval)

    async def out_of_reach(self, controller: TimedController, down_s: float) -> None:
        """The insole leaves radio range for `down_s`: its links time out on both sides after
        the supervision timeout and nobody hears it advertise until it is back."""
        controller.in_reach = False
        controller.counters.link_drops += 1
        await asyncio.sleep(min(self.supervision_wall_s, down_s))
        self.time_out_links(controller)
        await asyncio.sleep(max(0.0, down_s - self.supervision_wall_s))
        controller.in_reach = True
        controller.back_in_reach_at = asyncio.get_running_loop().time()
        controller.counters.back_in_reach_at_s.append(controller.back_in_reach_at)

    def time_out_links(self, controller: Controller) -> None:
        """End every LE link of `controller` on both sides with Connection Timeout, as when
        its radio went silent (out of reach, or the chip reset)."""
        for connection in list(controller.le_connections.values()):
            peer = self.find_le_controller(connection.peer_address)
            if isinstance(controller, TimedController):
                controller.counters.supervision_timeouts += 1
            controller.on_le_disconnected(connection, CONNECTION_TIMEOUT)
            if peer is not None:
                peer_connection = peer.le_connections.get(connection.self_address)
                if peer_connection is not None:
                    peer.on_le_disconnected(peer_connection, CONNECTION_TIMEOUT)
