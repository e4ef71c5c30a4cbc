# Status pages (docs/protocol.md, kind 1) built from the insole's live state.
from micropython import const

import protocol as p

# Page 0 flags above protocol.py's bits 0-2 (docs/protocol.md), set by power.py.
FLAG_IDLE = const(8)  # no host: not sampling, pad supply off, advertising slowly
FLAG_WOKE = const(16)  # this boot is a wake from deep sleep (the wake button)
# Set by main.py from bonds.py.
FLAG_PAIRING_OPEN = const(32)  # a new central may bond now
FLAG_BONDED = const(64)  # the insole holds at least one bond

BATTERY_EMPTY_MV = 3300
BATTERY_FULL_MV = 4200


def battery_pct(battery_mv):
    """State of charge of a LiPo cell, linear between 3.3 V and 4.2 V."""
    pct = (battery_mv - BATTERY_EMPTY_MV) * 100 // (BATTERY_FULL_MV - BATTERY_EMPTY_MV)
    return 0 if pct < 0 else 100 if pct > 100 else pct


def flags(insole):
    value = 0
    if insole.streaming:
        value |= p.FLAG_STREAMING
    if insole.connected:
        value |= p.FLAG_CONNECTED
    if insole.config.loaded:
        value |= p.FLAG_CONFIG_LOADED
    return value | insole.power_flags | insole.bond_flags


def build(insole, page, out):
    """Status page `page` (0-4) into out; return the frame length."""
    mask = insole.sampler.pad_mask
    tag = insole.tag
    counter = insole.status_counter
    insole.status_counter = (counter + 1) & 0xFFFF
    if page == p.PAGE_IDENTITY:
        major, minor, patch = insole.fw_version
        return p.encode_status_identity(out, mask, tag, counter, insole.insole_id, insole.boot_id,
                                        major, minor, patch, insole.sampler.rate_hz, flags(insole))
    if page == p.PAGE_CLOCK:
        mv = insole.battery_mv()
        return p.encode_status_clock(out, mask, tag, counter, insole.device_time_us(), mv,
                                     battery_pct(mv), insole.packer.last_seq,
                                     insole.sampler.oversample)
    if page == p.PAGE_COUNTERS:
        ring = insole.ring
        return p.encode_status_counters(out, mask, tag, counter, ring.frames_sent,
                                        ring.frames_resent, ring.frames_dropped,
                                        insole.notify_retries, ring.count, ring.span_ds())
    if page == p.PAGE_TIMING:
        sampler = insole.sampler
        length = p.encode_status_timing(out, mask, tag, counter, sampler.jitter_mean_us(),
                                        sampler.jitter_max_us, sampler.late_samples,
                                        insole.selfcheck.open_mask, insole.selfcheck.short_mask,
                                        insole.reset_reason, insole.reset_error)
        sampler.reset_jitter()
        return length
    return p.encode_status_tare(out, mask, tag, counter, insole.config.tare)
