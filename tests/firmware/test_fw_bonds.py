"""firmware/bonds.py under MicroPython: the cadence-collector marks and the per-peer record of
served keys that two centrals at once need (the rest of the store is shown on the real BLE
stack: tests/lab/test_lab_ble_pairing.py, tests/firmware/test_fw_ble.py)."""

from __future__ import annotations

from fw_harness import MicroPython


def test_a_collector_mark_is_kept_on_flash_only_for_a_bonded_peer(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json
        from bonds import Bonds, SEC_OUR, SEC_PEER
        watch, host = b"\\x01" + bytes(6), b"\\x01" + b"\\x02" * 6
        stranger = b"\\x01" + b"\\x03" * 6
        b = Bonds("bonds.bin")
        for key in (watch, host):
            b.open_window()  # the owner's button: a second bond
            b.set_secret(SEC_PEER, key, b"peer-keys")
            b.set_secret(SEC_OUR, key, b"our-keys")
        out = {"stranger": b.mark_rsc(stranger), "watch": b.mark_rsc(watch),
               "again": b.mark_rsc(watch)}
        again = Bonds("bonds.bin")  # a reset: the marks come back from flash
        out["after_reset"] = [again.is_rsc(watch), again.is_rsc(host), again.is_rsc(stranger)]
        out["peers"] = again.peer_count()
        # NimBLE iterating its peers sees the two bonds, not the mark.
        out["iterated"] = [again.get_secret(SEC_PEER, i, None) is not None for i in range(3)]
        again.forget()
        out["after_forget"] = Bonds("bonds.bin").is_rsc(watch)
        print(json.dumps(out))
    """)
    assert got["stranger"] is False and got["watch"] is True and got["again"] is False
    assert got["after_reset"] == [True, False, False]
    assert got["peers"] == 2 and got["iterated"] == [True, True, False]
    assert got["after_forget"] is False


def test_served_keys_are_kept_per_peer_for_two_links(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json
        from bonds import Bonds, SEC_OUR, SEC_PEER
        host, watch = b"\\x01" + b"\\x02" * 6, b"\\x01" + bytes(6)
        b = Bonds("bonds.bin")
        for key in (watch, host):
            b.open_window()  # the owner's button: a second bond
            b.set_secret(SEC_PEER, key, b"peer-keys")
            b.set_secret(SEC_OUR, key, b"our-keys")
        b.begin_link(host)
        b.get_secret(SEC_OUR, 0, host)  # the host's link re-encrypts
        b.begin_link(watch)  # the watch connects meanwhile
        out = {"host": b.reencrypted(host), "watch": b.reencrypted(watch)}
        b.begin_link(host)  # the host's next link: nothing served on it yet
        out["host_next"] = b.reencrypted(host)
        print(json.dumps(out))
    """)
    assert got == {"host": True, "watch": False, "host_next": False}
