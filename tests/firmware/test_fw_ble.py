"""The firmware's BLE peripheral, run by main.py's own tasks under MicroPython, against the
simulated `bluetooth` module: advertising, connection, MTU exchange, back-pressure, control
writes, disconnection and resend of what was missed."""

from __future__ import annotations

from typing import Any

import pytest
from fw_harness import MicroPython
from fw_reference import check_crc, decode_data

SERVICE_UUID_LE = bytes.fromhex("89860001e81f4e88a7c25607755b9b8a")[::-1]

SCENARIO = """
import asyncio, json, struct, bluetooth, protocol as p
import main

fw = main.Firmware()
ble = bluetooth.BLE()
radio = ble.radio
data_h = ble.handle_of(p.DATA_UUID)
control_h = ble.handle_of(p.CONTROL_UUID)
status_h = ble.handle_of(p.STATUS_UUID)
report = {"handles": [data_h, control_h, status_h]}
report["services"] = [[str(s), [[str(c), f] for c, f, h in chars]] for s, chars in ble.services]

def mark(name):
    report[name] = len(radio.notifications)

def control(rid, op, args=b""):
    buf = bytearray(32)
    n = p.encode_control(buf, 0, rid, op, args)
    ble.central_write(64, control_h, bytes(buf[:n]))

async def scenario():
    tasks = [asyncio.create_task(t) for t in (fw.sample_task(), fw.send_task(),
                                              fw.status_task(), fw.control_task())]
    await asyncio.sleep_ms(300)
    report["adv_before"] = radio.advertising[1].hex()
    ble.central_connect(64)
    mark("connected")
    report["adv_connected"] = radio.advertising
    await asyncio.sleep_ms(400)
    mark("mtu_exchange")
    ble.central_exchange_mtu(64, 247)
    await asyncio.sleep_ms(700)
    mark("enomem")
    radio.enomem = 4
    await asyncio.sleep_ms(700)
    mark("get_status")
    radio.enomem = 3  # the radio refuses the reply (twice) and a page: they must still come
    radio.enomem_handle = status_h
    control(500, p.OP_GET_STATUS)
    await asyncio.sleep_ms(300)
    report["refusals_left"] = radio.enomem
    radio.enomem_handle = None
    report["status_value"] = ble.gatts_read(status_h).hex()
    mark("disconnect")
    report["ring_at_disconnect"] = fw.insole.ring.next_seq
    ble.central_disconnect(64)
    await asyncio.sleep_ms(20)
    report["adv_after"] = radio.advertising[1].hex() if radio.advertising else None
    await asyncio.sleep_ms(600)
    report["ring_after"] = fw.insole.ring.next_seq
    report["held_after"] = fw.insole.ring.count
    ble.central_connect(64)
    ble.central_exchange_mtu(64, 247)
    mark("resend")
    control(501, p.OP_RESEND, struct.pack("<HH", report["ring_at_disconnect"],
                                          report["ring_after"] - 1))
    await asyncio.sleep_ms(400)
    for t in tasks:
        t.cancel()
    report["notifications"] = [[h, d.hex()] for c, h, d in radio.notifications]
    print(chr(10) + json.dumps(report))  # after any serial frames on stdout

asyncio.run(scenario())
"""


@pytest.fixture(scope="module")
def flow(micropython_bin: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    mpy = MicroPython(micropython_bin, tmp_path_factory.mktemp("ble"))
    result: dict[str, Any] = mpy.json(SCENARIO, stdin_open=True)
    return result


def frames(flow: dict[str, Any], handle_index: int, start: str, end: str | None = None
           ) -> list[bytes]:
    handle = flow["handles"][handle_index]
    stop = flow[end] if end else len(flow["notifications"])
    return [bytes.fromhex(d) for h, d in flow["notifications"][flow[start]:stop] if h == handle]


def test_advertises_service_and_foot_name_in_31_bytes(flow: dict[str, Any]) -> None:
    adv = bytes.fromhex(flow["adv_before"])
    assert len(adv) <= 31
    assert adv[:3] == b"\x02\x01\x06"
    assert adv[3:5] == b"\x11\x07" and adv[5:21] == SERVICE_UUID_LE
    assert adv[21:] == b"\x09\x09NGL-b2c3"  # left foot, insole id ...b2c3 from the unique id
    assert flow["adv_connected"] is None
    assert flow["adv_after"] == flow["adv_before"]  # re-advertises after a disconnect


def test_gatt_table_has_the_service_device_information_and_battery(flow: dict[str, Any]) -> None:
    services = {uuid: chars for uuid, chars in flow["services"]}
    assert services["89860001-e81f-4e88-a7c2-5607755b9b8a"] == [
        # Notify / write / read+notify, each needing an encrypted link (0x0200 read, 0x1000
        # write): control and session data only for a bonded central.
        ["89860002-e81f-4e88-a7c2-5607755b9b8a", 0x0210],
        ["89860003-e81f-4e88-a7c2-5607755b9b8a", 0x100C],
        ["89860004-e81f-4e88-a7c2-5607755b9b8a", 0x0212],
    ]
    assert "0x180a" in services and services["0x180f"] == [["0x2a19", 0x12]]


def test_notifications_fit_the_mtu_before_and_after_the_exchange(flow: dict[str, Any]) -> None:
    before = frames(flow, 0, "connected", "mtu_exchange")
    assert len(before) >= 20 and all(len(f) <= 20 and check_crc(f) for f in before)
    after = frames(flow, 0, "enomem", "get_status")
    assert all(len(f) <= 244 and check_crc(f) for f in after)
    assert max(len(f) for f in after) == 236  # 25 six-pad sets: 250 ms at 100 Hz


def test_back_pressure_keeps_every_frame(flow: dict[str, Any]) -> None:
    data = frames(flow, 0, "mtu_exchange", "disconnect")
    seqs = [decode_data(f)["seq"] for f in data]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap across 4 ENOMEMs
    status = [f for f in frames(flow, 2, "get_status", "disconnect") if f[1] >> 6 == 1]
    counters = next(f for f in status if f[5] == 2)
    assert int.from_bytes(counters[12:14], "little") >= 4  # notify_retries


def test_control_write_gets_reply_and_status_pages_despite_back_pressure(
        flow: dict[str, Any]) -> None:
    on_status = frames(flow, 2, "get_status", "disconnect")
    replies = [f for f in on_status if f[1] >> 6 == 2]
    assert [(int.from_bytes(f[3:5], "little"), f[5], f[6]) for f in replies] == [(500, 8, 0)]
    index = on_status.index(replies[0])
    assert [f[5] for f in on_status[index + 1:index + 6]] == [0, 1, 2, 3, 4]
    assert bytes.fromhex(flow["status_value"])[1] >> 6 == 1  # the characteristic holds a page
    assert flow["refusals_left"] == 0


def test_disconnected_time_stays_in_the_ring_and_is_resent(flow: dict[str, Any]) -> None:
    first, end = flow["ring_at_disconnect"], flow["ring_after"]
    assert end - first >= 20  # about 0.6 s of MTU-23 frames kept sampling while disconnected
    on_status = frames(flow, 2, "resend")
    reply = next(f for f in on_status if f[1] >> 6 == 2)
    assert (reply[5], reply[6]) == (6, 0)
    assert int.from_bytes(reply[7:9], "little") == end - first
    resent = {decode_data(f)["seq"] for f in frames(flow, 0, "resend")}
    assert set(range(first, end)) <= resent
