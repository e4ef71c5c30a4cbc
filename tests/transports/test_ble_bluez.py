"""The BLE transport at the BlueZ boundary: bleak's real BlueZ backend, over a real D-Bus, against
a model of bluetoothd (`bluez_model`) with the lab's insole emulator behind it.

What this shows and the bumble tests cannot: the calls the host makes to bluetoothd (Pair only
when asked, AcquireWrite for the MTU, write types, RemoveDevice on forgetting) and what it makes
of bluetoothd's error replies, worded as bluetoothd words them. What it does not show:
bluetoothd's own behaviour (its connection handling, SMP, caching); see docs/lab.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bluez_model import (
    ATT_INSUFFICIENT_RESOURCES,
    PAIR_ERRORS,
    BluezModel,
    InsoleBehind,
    att_error,
    private_system_bus,
    running_model,
    variant_value,
)

from numbguard.errors import DeviceError
from numbguard.protocol.constants import (
    CONTROL_UUID,
    HEADER_BYTES,
    OP_GET_STATUS,
    OP_TIME_SYNC,
)
from numbguard.protocol.frames import DataFrame
from numbguard.transports import open_transport
from numbguard.transports.ble import BleTransport
from numbguard.transports.ble_errors import NOT_BONDED_HINT
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.transports.pairing import PairedInsole, PairingRegistry

INSOLE_ID = 0x1AB0B1E0  # the model's default device: 24:0A:1A:B0:B1:E0, NGL-B1E0
MODEL_MTU = 185  # what bluetoothd exchanged with the insole (not bleak's default 23)


@pytest.fixture(scope="module")
def system_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_system_bus(tmp_path_factory.mktemp("bus")) as address:
        yield address


@pytest.fixture
async def model(system_bus: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BluezModel]:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)  # bleak's BlueZ manager's bus
    emulator = InsoleEmulator(foot="left", insole_id=INSOLE_ID)
    async with (
        running_model(system_bus, name="NGL-B1E0", mtu=MODEL_MTU) as running,
        InsoleBehind(running, emulator),
    ):
        yield running


@pytest.fixture
def registry(tmp_path: Path) -> PairingRegistry:
    return PairingRegistry(tmp_path / "paired.json")


async def _open(registry: PairingRegistry, url: str) -> BleTransport:
    transport = open_transport(
        url, registry=registry, scan_timeout_s=5.0, connect_timeout_s=5.0,
        reconnect_for_s=2.0, time_sync_period_s=0.3,
    )  # fmt: skip
    assert isinstance(transport, BleTransport)
    await transport.__aenter__()
    return transport


async def _data_frames(transport: BleTransport, count: int) -> list[DataFrame]:
    frames: list[DataFrame] = []
    async for event in transport:
        if isinstance(event.frame, DataFrame):
            frames.append(event.frame)
            if len(frames) >= count:
                return frames
    raise AssertionError("the stream ended")


def _control_writes(model: BluezModel) -> list[tuple[int, str]]:
    """(opcode, write type) of every control frame that reached the insole."""
    return [(value[HEADER_BYTES], kind) for value, kind in model.chars[CONTROL_UUID].written]


async def test_first_connect_pairs_once_acquires_the_mtu_and_writes_with_response(
    model: BluezModel, registry: PairingRegistry
) -> None:
    transport = await _open(registry, "ble://?feet=left&pair=1")
    try:
        frames = await _data_frames(transport, 3)
        link = transport.links[model.address]
        assert link.att_mtu == MODEL_MTU
        assert transport.insoles[0].insole_id == INSOLE_ID
    finally:
        await transport.close()
    members = [call.member for call in model.calls]
    assert members.count("Pair") == 1
    # Pair before the MTU is acquired: with encryption the insole serves nothing unpaired.
    assert members.index("Pair") < members.index("AcquireWrite")
    acquired = next(call for call in model.calls if call.member == "AcquireWrite")
    assert acquired.path == model.chars[CONTROL_UUID].path
    assert model.device.paired
    # Frames sized for the MTU bluetoothd reported, not for 23.
    assert max(len(f.samples) for f in frames) > 20 // 2
    writes = _control_writes(model)
    assert (OP_GET_STATUS, "request") in writes
    assert all(kind == "command" for op, kind in writes if op == OP_TIME_SYNC)
    assert all(kind == "request" for op, kind in writes if op != OP_TIME_SYNC)
    assert registry.get("left") == PairedInsole("left", INSOLE_ID, model.address, "NGL-B1E0")


async def test_a_bonded_insole_is_not_paired_again(
    model: BluezModel, registry: PairingRegistry
) -> None:
    model.device.paired = True  # both hold the bond from `numbguard pair`
    model.insole_bond = True
    registry.remember(PairedInsole("left", INSOLE_ID, model.address, "NGL-B1E0"))
    transport = await _open(registry, "ble://?feet=left")
    try:
        await _data_frames(transport, 2)
        assert transport.links[model.address].att_mtu == MODEL_MTU
    finally:
        await transport.close()
    assert model.called("Pair") == []


async def test_insufficient_resources_is_waited_out(
    model: BluezModel, registry: PairingRegistry
) -> None:
    transport = await _open(registry, "ble://?feet=left")
    try:
        link = transport.links[model.address]
        before = len(model.called("WriteValue"))
        for _ in range(2):
            model.fail(f"WriteValue {CONTROL_UUID}", att_error(ATT_INSUFFICIENT_RESOURCES))
        reply = await transport.control(link.link, OP_GET_STATUS, timeout_s=5.0)
        assert reply.opcode == OP_GET_STATUS
    finally:
        await transport.close()
    attempts = [
        call for call in model.called("WriteValue")[before:]
        if variant_value(call.args[0])[HEADER_BYTES] == OP_GET_STATUS
    ]  # fmt: skip
    assert len(attempts) == 3  # two refused while NimBLE had no buffers, then through


async def test_an_insole_that_holds_no_bond_says_how_to_pair(
    model: BluezModel, registry: PairingRegistry
) -> None:
    model.insole_bond = False  # the insole's bonds were forgotten, and bluetoothd has none
    with pytest.raises(DeviceError) as raised:
        await _open(registry, "ble://?feet=left")
    assert "Not paired" in str(raised.value) and NOT_BONDED_HINT in str(raised.value)
    assert model.called("Pair") == []
    assert not model.device.connected


@pytest.mark.parametrize("why", sorted(PAIR_ERRORS))
async def test_a_refused_pairing_says_how_to_pair(
    model: BluezModel, registry: PairingRegistry, why: str
) -> None:
    model.fail("Pair", PAIR_ERRORS[why])
    with pytest.raises(DeviceError) as raised:
        await _open(registry, "ble://?feet=left&pair=1")
    assert PAIR_ERRORS[why].text in str(raised.value)
    assert NOT_BONDED_HINT in str(raised.value)
    assert registry.get("left") is None


async def test_a_stale_host_bond_is_removed_and_paired_afresh(
    model: BluezModel, registry: PairingRegistry
) -> None:
    # bluetoothd still holds a bond the insole forgot: encrypted writes fail until the host
    # drops its bond (RemoveDevice) and pairs again.
    model.device.paired = True
    model.insole_bond = False
    transport = await _open(registry, "ble://?feet=left&pair=1")
    try:
        await _data_frames(transport, 2)
    finally:
        await transport.close()
    members = [call.member for call in model.calls]
    assert "RemoveDevice" in members
    assert members.index("RemoveDevice") < len(members) - 1 - members[::-1].index("Pair")
    assert model.device.paired


async def test_forget_removes_the_device_from_bluetoothd(
    model: BluezModel, registry: PairingRegistry
) -> None:
    transport = await _open(registry, "ble://?feet=left&pair=1")
    try:
        forgotten = await transport.forget_bonds()
    finally:
        await transport.close()
    assert [identity.insole_id for identity in forgotten] == [INSOLE_ID]
    removed = model.called("RemoveDevice")
    assert [variant_value(call.args[0]) for call in removed] == [model.device_path]
    assert not model.device.paired and registry.get("left") is None
