"""Finding the board among pyserial's ports by the USB ids of ESP32 USB-serial bridges."""

from __future__ import annotations

import pytest
import serial
from deploy_sims import rom_argv
from serial.tools.list_ports_common import ListPortInfo

from numbguard.deploy.boards import check_port_free, choose_port, find_boards
from numbguard.errors import DeviceError, DeviceNotFound
from numbguard_lab.pty_peer import PtyPeer


def port_info(
    device: str, vid: int | None, pid: int | None, serial_number: str = ""
) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number or None
    return info


PORTS = [
    port_info("/dev/ttyS0", None, None),  # a motherboard UART: no USB ids
    port_info("/dev/ttyACM0", 0x2341, 0x0043),  # an Arduino Uno: not an ESP32 bridge
    port_info("/dev/ttyUSB1", 0x1A86, 0x7523, "A1"),  # CH340
]


def test_only_esp32_bridges_are_boards_and_each_is_named() -> None:
    ports = [
        *PORTS,
        port_info("/dev/ttyUSB0", 0x10C4, 0xEA60, "0001"),
        port_info("/dev/ttyACM1", 0x303A, 0x1001),
        port_info("/dev/ttyUSB2", 0x0403, 0x6015),
    ]
    boards = find_boards(ports)
    assert [(b.port, b.bridge) for b in boards] == [
        ("/dev/ttyACM1", "Espressif USB"),
        ("/dev/ttyUSB0", "CP210x"),
        ("/dev/ttyUSB1", "CH340"),
        ("/dev/ttyUSB2", "FTDI FT231X"),
    ]
    assert boards[1].describe() == "/dev/ttyUSB0 (CP210x 10C4:EA60, serial 0001)"


def test_one_board_is_chosen_without_port() -> None:
    assert choose_port(None, find_boards(PORTS)) == "/dev/ttyUSB1"


def test_port_option_wins_even_over_several_boards() -> None:
    boards = find_boards([*PORTS, port_info("/dev/ttyUSB0", 0x10C4, 0xEA60)])
    assert choose_port("/dev/pts/7", boards) == "/dev/pts/7"


def test_no_board_says_what_was_expected() -> None:
    expected = r"a board on USB: not found: expected a serial port from a CP210x, CH340.*got none"
    with pytest.raises(DeviceNotFound, match=expected) as raised:
        choose_port(None, find_boards(PORTS[:2]))
    assert raised.value.name_or_address == "a board on USB" and raised.value.scanned_s is None


def test_several_boards_are_listed_and_port_asked_for() -> None:
    boards = find_boards([*PORTS, port_info("/dev/ttyUSB0", 0x10C4, 0xEA60)])
    with pytest.raises(DeviceError) as raised:
        choose_port(None, boards)
    text = str(raised.value)
    assert "several boards found (expected one; got 2" in text and "--port" in text
    assert "/dev/ttyUSB0 (CP210x" in text and "/dev/ttyUSB1 (CH340" in text


def test_a_port_held_by_another_program_is_busy() -> None:
    with PtyPeer(rom_argv("--silent")) as peer:
        check_port_free(peer.path)  # free: opens and closes
        holder = serial.Serial(peer.path, exclusive=True)
        try:
            with pytest.raises(DeviceError, match="port busy: expected a free port"):
                check_port_free(peer.path)
        finally:
            holder.close()
        check_port_free(peer.path)


def test_a_port_that_does_not_exist_is_named() -> None:
    with pytest.raises(DeviceError, match="/dev/nonexistent-numbguard: opening the port failed"):
        check_port_free("/dev/nonexistent-numbguard")
