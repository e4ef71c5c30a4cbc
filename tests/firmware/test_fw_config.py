"""Config under MicroPython: validation, persistence on the filesystem, fallback that never
bricks the insole."""

from __future__ import annotations

import json
from pathlib import Path

from fw_harness import MicroPython

SHOW = """
import json
from config import Config
c = Config("config.json")
print(json.dumps({"values": c.values, "loaded": c.loaded, "rejected": c.rejected}))
"""


def test_missing_file_gives_defaults(mpy: MicroPython) -> None:
    got = mpy.json(SHOW)
    assert got["loaded"] is False
    assert got["values"]["rate_hz"] == 100 and got["values"]["pad_mask"] == 63
    assert got["values"]["oversample"] == 1 and got["values"]["foot"] == "left"


def test_settings_persist_across_a_restart(mpy: MicroPython) -> None:
    results = mpy.json("""
        import json
        from config import Config
        c = Config("config.json")
        print(json.dumps([c.set_rate(200), c.set_oversample(4), c.set_pad_mask(0x1E),
                          c.set_name("Trail L"), c.set_cal(2, 1.5, 0.75),
                          c.set_tare([0, 10, 20, 30, 40, 4095])]))
    """)
    assert results == [0] * 6
    got = mpy.json(SHOW)
    assert got["loaded"] is True
    values = got["values"]
    assert (values["rate_hz"], values["oversample"], values["pad_mask"]) == (200, 4, 0x1E)
    assert values["name"] == "Trail L" and values["cal"][2] == [1.5, 0.75]
    assert values["tare"] == [0, 10, 20, 30, 40, 4095]


def test_invalid_values_are_rejected_and_change_nothing(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json
        from config import Config
        c = Config("config.json")
        before = json.dumps(c.values)
        results = [c.set_rate(24), c.set_rate(201), c.set_rate(True), c.set_oversample(0),
                   c.set_oversample(17), c.set_pad_mask(0), c.set_pad_mask(64),
                   c.set_name(""), c.set_name("x" * 12), c.set_name("bad\\x01"),
                   c.set_cal(6, 1.0, 1.0), c.set_cal(0, 0.0, 1.0), c.set_cal(0, -1.0, 1.0),
                   c.set_cal(0, float("nan"), 1.0), c.set_cal(0, float("inf"), 1.0),
                   c.set_cal(0, 1.0, 0.0), c.set_cal(0, 1.0, 11.0),
                   c.set_tare([0] * 5), c.set_tare([0, 0, 0, 0, 0, 4096])]
        import os
        print(json.dumps([results, before == json.dumps(c.values), "config.json" in os.listdir()]))
    """)
    results, unchanged, file_written = got
    assert results == [5] * len(results)  # RESULT_OUT_OF_RANGE
    assert unchanged and not file_written


def test_corrupt_files_fall_back_and_keep_valid_fields(mpy: MicroPython) -> None:
    config_path = Path(mpy.workdir) / "config.json"
    for content in (b"\xff\xfe not json", b"[1, 2, 3]", b"", b'{"rate_hz": '):
        config_path.write_bytes(content)
        got = mpy.json(SHOW)
        assert got["loaded"] is False and got["values"]["rate_hz"] == 100, content
    config_path.write_text(json.dumps({"rate_hz": 50, "oversample": 99, "name": "ok",
                                       "cal": [[1, 1]] * 5, "pad_mask": "all"}))
    got = mpy.json(SHOW)
    assert got["loaded"] is False
    assert sorted(got["rejected"]) == ["cal", "oversample", "pad_mask"]
    assert got["values"]["rate_hz"] == 50 and got["values"]["name"] == "ok"
    assert got["values"]["oversample"] == 1 and got["values"]["pad_mask"] == 63


def test_unwritable_flash_reports_storage_error_and_keeps_the_change(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json
        from config import Config
        c = Config("no_such_dir/config.json")
        print(json.dumps([c.set_rate(50), c.rate_hz]))
    """)
    assert got == [7, 50]  # RESULT_STORAGE_ERROR, kept in RAM
