"""USB serial link under MicroPython: COBS framing, and main.py streaming over stdin/stdout
while garbage, cut frames and control frames arrive."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from fw_harness import FIRMWARE_DIR, SIM_DIR, MicroPython
from fw_reference import check_crc, cobs_decode, cobs_encode, control_frame, decode_data

from numbguard.calibration import esp32_adc

PAYLOADS = [b"\x00", b"\x11", b"\x00\x00", b"\x11\x00\x22\x00", bytes(range(1, 254)),
            bytes(range(1, 255)) + b"\x01", bytes([7] * 254), bytes([7] * 255),
            bytes(i % 256 for i in range(600)), b"\x03\x00\x03"]


def test_cobs_matches_reference_both_ways(mpy: MicroPython) -> None:
    encoded = [cobs_encode(p) for p in PAYLOADS]
    got = mpy.json(f"""
        import json
        from seriallink import cobs_encode, cobs_decode, cobs_max
        enc = []
        dec = []
        for payload in {PAYLOADS!r}:
            dst = bytearray(cobs_max(len(payload)))
            n = cobs_encode(payload, len(payload), dst)
            enc.append(bytes(dst[:n]).hex())
        for packet in {encoded!r}:
            dst = bytearray(700)
            n = cobs_decode(packet, len(packet) - 1, dst)
            dec.append(bytes(dst[:n]).hex())
        bad = []
        for packet in (b"\\x05\\x01", b"\\x03\\x01\\x00", b"\\x00"):
            bad.append(cobs_decode(packet, len(packet), bytearray(10)))
        print(json.dumps([enc, dec, bad]))
    """)
    enc, dec, bad = got
    assert [bytes.fromhex(e) for e in enc] == encoded
    assert [bytes.fromhex(d) for d in dec] == PAYLOADS
    assert bad == [-1, -1, -1]
    assert all(cobs_decode(e[:-1]) == p for e, p in zip(encoded, PAYLOADS, strict=True))


def test_main_streams_over_serial_and_resynchronises_after_garbage(mpy: MicroPython) -> None:
    trace = mpy.workdir / "trace.json"
    trace.write_text(json.dumps({"36": [1234], "39": [0, 4095], "34": [3], "35": [3],
                                 "32": [3], "33": [3]}))
    set_rate = cobs_encode(control_frame(1, 3, bytes([200])))
    get_status = cobs_encode(control_frame(2, 8))
    unknown = cobs_encode(control_frame(3, 77))
    stream = (b"\x01\x02garbage\xff\x00" + set_rate[: len(set_rate) // 2] + b"\x00"
              + b"\x13\x37\x00" + set_rate + b"\x00\x00" + get_status + unknown[:4] + b"\x00"
              + unknown)
    proc = subprocess.Popen(
        [mpy.binary, str(FIRMWARE_DIR / "main.py")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=mpy.workdir,
        env=mpy.env({"NUMBGUARD_ADC_TRACE": str(trace)}),
    )
    assert proc.stdin is not None
    time.sleep(0.3)  # let it stream a while at 100 Hz first
    proc.stdin.write(stream)
    proc.stdin.flush()
    time.sleep(0.5)
    out, err = proc.communicate(timeout=30)  # closing stdin ends the firmware on the unix port
    assert proc.returncode == 0, err.decode()
    frames = [cobs_decode(p) for p in out.split(b"\x00") if p]
    assert frames and all(check_crc(f) for f in frames)
    kinds = [f[1] >> 6 for f in frames]
    replies = [(int.from_bytes(f[3:5], "little"), f[5], f[6])
               for f, k in zip(frames, kinds, strict=True) if k == 2]
    # Garbage and cut frames get no reply; each whole control frame gets one.
    assert replies == [(1, 3, 0), (2, 8, 0), (3, 77, 3)]
    data = [decode_data(f) for f, k in zip(frames, kinds, strict=True) if k == 0]
    seqs = [d["seq"] for d in data]
    assert seqs == list(range(len(seqs)))
    rates = [d["rate_hz"] for d in data]
    assert rates[0] == 100 and rates[-1] == 200 and rates == sorted(rates)
    # As the default simulated chip reads them: within its noise; 0 V and the rail read its
    # floor and its top.
    floor = esp32_adc.mv_to_counts(esp32_adc.floor_mv(esp32_adc.VREF_NOMINAL_MV))
    top = esp32_adc.mv_to_counts(esp32_adc.top_mv(esp32_adc.VREF_NOMINAL_MV))
    samples = [s for d in data for s in d["samples"]]  # type: ignore[attr-defined]
    assert all(abs(s[0] - 1234) <= 6 and s[1] in (floor, top) for s in samples)
    status = [f for f, k in zip(frames, kinds, strict=True) if k == 1]
    assert len(status) >= 5  # periodic status plus the GET_STATUS pages
    identity = [f for f in status if f[5] == 0]
    assert identity[0][16] & 0x02 == 0  # before any control frame: no host known
    assert identity[-1][16] & 0x03 == 0x03  # streaming, and a host spoke over serial


def test_wake_button_held_at_boot_keeps_the_repl(mpy: MicroPython) -> None:
    out = mpy.run("""
        import machine, main
        machine.press(4)
        main.main()
        print("returned")
    """)
    assert "staying in the REPL" in out and out.strip().endswith("returned")


def test_without_a_radio_frames_fill_mtu_247_over_serial(mpy: MicroPython) -> None:
    # A port with no `bluetooth` module: only the simulated machine on the path.
    board_dir = mpy.workdir / "board"
    board_dir.mkdir()
    shutil.copy(SIM_DIR / "machine.py", board_dir / "machine.py")
    shutil.copy(Path(esp32_adc.__file__), board_dir / "esp32_adc.py")  # the chip it simulates
    proc = subprocess.Popen(
        [mpy.binary, str(FIRMWARE_DIR / "main.py")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=mpy.workdir,
        env=mpy.env({"MICROPYPATH": f"{board_dir}:{FIRMWARE_DIR}:.frozen"}),
    )
    time.sleep(0.7)
    out, err = proc.communicate(b"", timeout=30)
    assert proc.returncode == 0, err.decode()
    frames = [cobs_decode(p) for p in out.split(b"\x00") if p]
    data = [f for f in frames if f[1] >> 6 == 0]
    assert data and all(check_crc(f) and len(f) == 236 for f in data)
