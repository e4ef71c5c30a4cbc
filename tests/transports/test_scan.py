"""`scan_insoles` with the host's real BleakScanner over the virtual radio."""

from __future__ import annotations

from pathlib import Path

from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.transports.pairing import PairedInsole, PairingRegistry
from numbguard.transports.scan import scan_insoles
from numbguard_lab.bumble_backend import VirtualRadio
from numbguard_lab.virtual_insole_ble import VirtualInsoleBle


async def test_scan_lists_both_insoles_with_foot_and_paired_state(tmp_path: Path) -> None:
    radio = VirtualRadio()
    left = VirtualInsoleBle(radio, InsoleEmulator(foot="left", insole_id=0x11223344))
    right = VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=0x55667788))
    odd = VirtualInsoleBle(
        radio, InsoleEmulator(foot="left", insole_id=0x1), advertised_name="Shoe?"
    )
    for peripheral in (left, right, odd):
        await peripheral.start()
    try:
        registry = PairingRegistry(tmp_path / "paired.json")
        registry.remember(
            PairedInsole(
                "left", 0x11223344, left.device.random_address.to_string(False), "NGL-3344"
            )
        )
        found = await scan_insoles(1.0, backend=radio.bleak_backend(), registry=registry)
    finally:
        for peripheral in (left, right, odd):
            await peripheral.stop()
    by_name = {insole.name: insole for insole in found}
    assert set(by_name) == {"NGL-3344", "NGR-7788", "Shoe?"}
    assert by_name["NGL-3344"].foot == "left" and by_name["NGL-3344"].id_low16 == 0x3344
    assert by_name["NGR-7788"].foot == "right"
    assert by_name["Shoe?"].foot is None  # offers the service, but not an insole's name
    assert by_name["NGL-3344"].paired and not by_name["NGR-7788"].paired
    # What `numbguard run` would make of each: the odd name is not used, and says why.
    assert by_name["NGL-3344"].not_used_because == ""
    assert "not NGL-xxxx" in by_name["Shoe?"].not_used_because
