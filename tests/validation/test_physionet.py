"""Readers of the PhysioNet gait recordings: WFDB format 212, .ts events, gaitpdb tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from numbguard.errors import InputError
from numbguard_lab.validation.physionet import (
    GAITNDD_KPA_PER_UNIT,
    GAITPDB_SENSOR_AREA_CM2,
    gaitpdb_reference_contacts,
    gaitpdb_total_force,
    read_gaitndd,
    read_gaitndd_events,
    read_gaitndd_signal,
    read_gaitpdb,
)
from tests.realdata import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA
needs_realdata = pytest.mark.usefixtures("realdata")  # fails without the data


def encode_212(samples: np.ndarray) -> bytes:
    """WFDB format 212, written independently of the reader: pairs of 12-bit values in 3 bytes."""
    out = bytearray()
    values = [int(v) & 0xFFF for v in samples]
    for i in range(0, len(values), 2):
        first = values[i]
        second = values[i + 1] if i + 1 < len(values) else 0
        out += bytes([first & 0xFF, (first >> 8) | ((second >> 8) << 4), second & 0xFF])
    return bytes(out[:-1]) if len(values) % 2 else bytes(out)


def write_record(
    folder: Path, left: np.ndarray, right: np.ndarray, checksum_delta: int = 0
) -> Path:
    lines = [f"rec 2 300 {len(left)}"]
    for suffix, samples, label in (("let", left, "left-foot"), ("rit", right, "right-foot")):
        (folder / f"rec.{suffix}").write_bytes(encode_212(samples))
        initial = -32768 if samples[0] == -2048 else int(samples[0])
        checksum = (int(samples.sum()) + checksum_delta) & 0xFFFF
        checksum = checksum - 0x10000 if checksum >= 0x8000 else checksum
        lines.append(f"rec.{suffix} 212 3000 12 0 {initial} {checksum} 0 {label}")
    (folder / "rec.hea").write_text("\n".join(lines) + "\n")
    return folder / "rec"


def test_format_212_round_trip_and_scaling(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    left = rng.integers(-2048, 2048, 901)  # odd length: a lone last sample
    left[0] = -2048
    right = rng.integers(-2048, 2048, 901)
    record = write_record(tmp_path, left, right)
    rate_hz, samples = read_gaitndd_signal(record, "left")
    assert rate_hz == 300.0
    np.testing.assert_array_equal(samples, left)
    chunks = list(read_gaitndd(record, chunk_s=1.0))
    assert [c.foot for c in chunks[:2]] == ["left", "right"]
    assert [len(c.t_s) for c in chunks[::2]] == [300, 300, 300, 1]
    heel = np.concatenate([c.pressure_kpa["heel"] for c in chunks if c.foot == "right"])
    # Tared per 10 s (the whole 3 s here): the 2nd percentile reads 0 kPa, nothing is
    # negative or missing.
    np.testing.assert_allclose(
        heel, np.maximum(right - np.percentile(right, 2), 0) * GAITNDD_KPA_PER_UNIT
    )
    assert chunks[0].pressure_kpa["heel"][0] == 0.0


def test_a_corrupt_signal_fails_its_checksum(tmp_path: Path) -> None:
    record = write_record(tmp_path, np.arange(10) * 3, np.arange(10), checksum_delta=1)
    with pytest.raises(InputError, match="checksum mismatch") as caught:
        read_gaitndd_signal(record, "left")
    assert caught.value.where.endswith("rec.let")


def test_gaitpdb_tables_map_sensors_to_pads(tmp_path: Path) -> None:
    n = 300
    table = np.zeros((n, 19))
    table[:, 0] = 10 + np.arange(n) / 100
    table[:, 1] = 100.0  # left sensor 1: heel
    table[:, 6] = 60.0  # left sensor 6: lateral forefoot
    table[:, 7] = 70.0  # left sensor 7: medial forefoot
    table[:, 9] = 50.0  # right heel
    table[:, 17] = np.where(np.arange(n) % 100 < 60, 700.0, 0.0)
    path = tmp_path / "GaCo99_01.txt"
    np.savetxt(path, table, delimiter="\t", fmt="%.4f")
    chunks = list(read_gaitpdb(path, chunk_s=2.0))
    assert chunks[0].t_s[0] == 0.0 and [len(c.t_s) for c in chunks[::2]] == [200, 100]
    scale = 10.0 / GAITPDB_SENSOR_AREA_CM2
    assert chunks[0].pressure_kpa["heel"][0] == pytest.approx(100 * scale)
    assert chunks[0].pressure_kpa["ball_lateral"][0] == pytest.approx(60 * scale)
    assert chunks[0].pressure_kpa["ball_medial"][0] == pytest.approx(70 * scale)
    assert chunks[1].pressure_kpa["heel"][0] == pytest.approx(50 * scale)
    forefoot = list(read_gaitpdb(path, pads=("ball_medial", "ball_lateral")))
    assert set(forefoot[0].pressure_kpa) == {"ball_medial", "ball_lateral"}
    t_s, total = gaitpdb_total_force(path)
    # Contacts cut by the start or end of the file are left out.
    reference = gaitpdb_reference_contacts(t_s, total["left"])
    assert np.array(reference.contacts) == pytest.approx(np.array([[1.0, 1.6], [2.0, 2.6]]))
    assert reference.excluded == []
    assert reference.stride_s() == pytest.approx([1.0])
    with pytest.raises(InputError, match="no gaitpdb sensor"):
        list(read_gaitpdb(path, pads=("lace_upper",)))
    (tmp_path / "short.txt").write_text("0\t1\t2\n")
    with pytest.raises(InputError, match="19 columns"):
        list(read_gaitpdb(tmp_path / "short.txt"))


@needs_realdata
def test_every_gaitndd_record_decodes_with_a_valid_checksum() -> None:
    for header in sorted((REALDATA / "gaitndd" / "dev").glob("*.hea")):
        record = header.with_suffix("")
        for foot in ("left", "right"):
            rate_hz, samples = read_gaitndd_signal(record, foot)
            assert rate_hz == 300.0 and len(samples) == 90000
        events = read_gaitndd_events(record)
        assert len(events.left_heel_strike_s) > 100
        assert np.all(np.diff(events.left_heel_strike_s) > 0)


def test_gaitpdb_reference_leaves_out_turns_and_weak_segments() -> None:
    t_s = np.arange(1000) / 100
    total = np.zeros(1000)
    for start in (100, 200, 300, 600):
        total[start : start + 60] = 800.0  # steps of 0.6 s
    total[400:580] = 800.0  # 1.8 s loaded: a turn or a stop
    total[700:760] = 100.0  # weak: drift, not a step
    reference = gaitpdb_reference_contacts(t_s, total)
    assert [on for on, _ in reference.contacts] == pytest.approx([1.0, 2.0, 3.0, 6.0])
    assert np.array(reference.excluded) == pytest.approx(np.array([[4.0, 5.8], [7.0, 7.6]]))
    # No stride across an excluded segment.
    assert reference.stride_s() == pytest.approx([1.0, 1.0])
