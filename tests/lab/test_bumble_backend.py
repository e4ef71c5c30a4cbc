"""The bleak backend over bumble: bleak's public API against a virtual insole peripheral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from bumble.core import TimeoutError as BumbleTimeoutError

from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import (
    CONTROL_UUID,
    DATA_UUID,
    OP_GET_STATUS,
    OP_IDENTIFY,
    SERVICE_UUID,
    STATUS_UUID,
)
from numbguard.protocol.control import make_control
from numbguard.protocol.frames import Reply, StatusFrame
from numbguard.transports.ble import acquire_mtu
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard_lab.bumble_backend import VirtualRadio
from numbguard_lab.virtual_insole_ble import VirtualInsoleBle, advertising_data

FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


@pytest.fixture
async def insole() -> AsyncIterator[tuple[VirtualRadio, VirtualInsoleBle]]:
    radio = VirtualRadio(central_mtu=100)
    peripheral = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=0xCAFE0123))
    await peripheral.start()
    yield radio, peripheral
    await peripheral.stop()


async def _find(radio: VirtualRadio) -> tuple[BLEDevice, AdvertisementData]:
    backend = radio.bleak_backend()
    found = await BleakScanner.discover(
        timeout=0.3, return_adv=True, service_uuids=[SERVICE_UUID], backend=backend.scanner,
        **backend.kwargs,
    )  # fmt: skip
    assert len(found) == 1, found
    ((device, adv),) = found.values()
    return device, adv


def test_the_advertisement_holds_flags_service_and_name_in_31_bytes() -> None:
    data = advertising_data("NGR-0123")
    assert len(data) == 31
    assert bytes.fromhex(SERVICE_UUID.replace("-", ""))[::-1] in data
    with pytest.raises(ValueError, match="at most 31"):
        advertising_data("NGR-0123-LONGER")


async def test_scanner_reports_name_service_and_address(
    insole: tuple[VirtualRadio, VirtualInsoleBle],
) -> None:
    radio, peripheral = insole
    device, adv = await _find(radio)
    assert device.address == peripheral.address
    assert adv.local_name == "NGR-0123" and device.name == "NGR-0123"
    assert adv.service_uuids == [SERVICE_UUID]  # once, though bumble repeats it as scan response


async def test_a_scan_filtered_on_another_service_finds_nothing(
    insole: tuple[VirtualRadio, VirtualInsoleBle],
) -> None:
    radio, _ = insole
    backend = radio.bleak_backend()
    found = await BleakScanner.discover(
        timeout=0.3, service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"],
        backend=backend.scanner, **backend.kwargs,
    )  # fmt: skip
    assert found == []


async def test_client_reads_writes_and_subscribes_through_bleak(
    insole: tuple[VirtualRadio, VirtualInsoleBle],
) -> None:
    radio, peripheral = insole
    device, _ = await _find(radio)
    backend = radio.bleak_backend()
    status: list[bytes] = []
    data: list[bytes] = []
    async with BleakClient(device, backend=backend.client, **backend.kwargs) as client:
        assert client.mtu_size == 23  # as on BlueZ: unknown until a characteristic is acquired
        await acquire_mtu(client)
        assert client.mtu_size == 100
        control = client.services.get_characteristic(CONTROL_UUID)
        assert control is not None
        assert sorted(control.properties) == ["write", "write-without-response"]
        assert control.max_write_without_response_size == 97
        assert (await client.read_gatt_char(FIRMWARE_REVISION_UUID)).decode() == "1.0.0"
        assert (await client.read_gatt_char(BATTERY_LEVEL_UUID))[0] == 87
        await client.start_notify(STATUS_UUID, lambda _c, value: status.append(bytes(value)))
        await client.start_notify(DATA_UUID, lambda _c, value: data.append(bytes(value)))
        await client.write_gatt_char(
            CONTROL_UUID, encode_frame(make_control(OP_GET_STATUS, 41)), response=True
        )
        await client.write_gatt_char(
            CONTROL_UUID, encode_frame(make_control(OP_IDENTIFY, 42, seconds=2)), response=False
        )
        async with asyncio.timeout(5):
            while len(data) < 3 or sum(1 for s in status if decode_frame(s).kind == 2) < 2:
                await asyncio.sleep(0.01)
        latest_status = decode_frame(await client.read_gatt_char(STATUS_UUID))
        assert isinstance(latest_status, StatusFrame)
    replies = [frame for frame in map(decode_frame, status) if isinstance(frame, Reply)]
    assert [(r.seq, r.opcode) for r in replies] == [(41, OP_GET_STATUS), (42, OP_IDENTIFY)]
    assert all(len(notification) <= 97 for notification in data)
    assert peripheral.connections == 1


async def test_connecting_to_a_silent_address_fails_instead_of_hanging() -> None:
    radio = VirtualRadio()
    silent = radio.new_device("silent")
    await silent.power_on()
    backend = radio.bleak_backend()
    client = BleakClient(
        str(silent.random_address), backend=backend.client, timeout=0.3, **backend.kwargs
    )
    with pytest.raises(BleakError, match="not advertising"):
        await client.connect()
    assert not client.is_connected


def test_the_backend_needs_its_radio() -> None:
    from numbguard_lab.bumble_backend import BumbleBleakClient

    with pytest.raises(BleakError, match="bumble_radio"):
        BleakClient("C0:00:00:00:00:01", backend=BumbleBleakClient)


async def test_a_timed_out_connect_is_cancelled_and_leaves_no_ghost_connection() -> None:
    radio = VirtualRadio()
    peer = radio.new_device("later")
    await peer.power_on()
    await radio.power_on_central()
    with pytest.raises(BumbleTimeoutError):
        await radio.central.connect(peer.random_address, timeout=0.2)
    await peer.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
    await asyncio.sleep(0.2)  # the cancelled attempt must not complete now, unasked
    assert len(radio.central.connections) == 0
    connection = await radio.central.connect(peer.random_address, timeout=2.0)
    assert str(connection.peer_address) == str(peer.random_address)
    await connection.disconnect()
