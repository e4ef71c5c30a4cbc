# Control handling: one reply for every control frame that has a readable header.
import struct

import protocol as p

_TARE_READS = 8


def handle(insole, frame, length=-1):
    """Act on a control frame; return the frames to send back: the reply, then any status
    pages (GET_STATUS). An unreadable frame returns no frames."""
    result, opcode, request_id, args = p.parse_control(frame, length)
    if result is None:
        return []
    data = b""
    after = []
    if result == p.RESULT_OK:
        result, data = _dispatch(insole, opcode, args)
        if opcode == p.OP_GET_STATUS:
            after = [insole.status_frame(page) for page in range(p.STATUS_PAGES)]
    out = bytearray(p.MAX_FRAME_BYTES)
    n = p.encode_reply(out, insole.sampler.pad_mask, insole.tag, request_id, opcode, result,
                       data, len(data))
    return [bytes(out[:n])] + after


def _dispatch(insole, opcode, args):
    """(result, reply data) for a well-formed control frame."""
    config = insole.config
    if opcode == p.OP_START:
        insole.start()
    elif opcode == p.OP_STOP:
        insole.stop()
    elif opcode == p.OP_SET_RATE:
        return _apply(insole, config.set_rate(args[0])), b""
    elif opcode == p.OP_SET_OVERSAMPLE:
        return _apply(insole, config.set_oversample(args[0])), b""
    elif opcode == p.OP_SET_PADS:
        return _apply(insole, config.set_pad_mask(args[0])), b""
    elif opcode == p.OP_TARE:
        return _tare(insole, args[0]), b""
    elif opcode == p.OP_TIME_SYNC:
        token = struct.unpack_from("<I", args, 0)[0]
        return p.RESULT_OK, struct.pack("<II", token, insole.device_time_us())
    elif opcode == p.OP_RESEND:
        first, last = struct.unpack_from("<HH", args, 0)
        result, queued = insole.ring.request_resend(first, last)
        return result, struct.pack("<HH", queued, insole.ring.oldest_seq())
    elif opcode == p.OP_IDENTIFY:
        if not 1 <= args[0] <= p.IDENTIFY_MAX_S:
            return p.RESULT_OUT_OF_RANGE, b""
        insole.identify(args[0])
    elif opcode == p.OP_SET_NAME:
        name = bytes(args)
        for c in name:
            if not 0x20 <= c <= 0x7E:
                return p.RESULT_OUT_OF_RANGE, b""
        result = config.set_name(name.decode())
        if result != p.RESULT_OUT_OF_RANGE:
            insole.renamed = True
        return result, b""
    elif opcode == p.OP_SET_CAL:
        pad_bit, gain, exponent = struct.unpack_from("<Bff", args, 0)
        return config.set_cal(pad_bit, gain, exponent), b""
    elif opcode == p.OP_GET_CAL:
        pad_bit = args[0]
        if pad_bit >= p.PAD_COUNT:
            return p.RESULT_OUT_OF_RANGE, b""
        gain, exponent = config.cal[pad_bit]
        return p.RESULT_OK, struct.pack("<Bff", pad_bit, gain, exponent)
    elif opcode == p.OP_FORGET_BONDS:
        insole.forget_bonds = True
    return p.RESULT_OK, b""


def _apply(insole, result):
    # STORAGE_ERROR: the change is kept in RAM even though flash refused it.
    if result != p.RESULT_OUT_OF_RANGE:
        insole.apply_config()
    return result


def _tare(insole, pad_mask):
    present = insole.sampler.pad_mask
    if pad_mask == 0:
        pad_mask = present
    if pad_mask & ~present:
        return p.RESULT_OUT_OF_RANGE
    sums = [0] * p.PAD_COUNT
    values = insole.sampler.values
    for _ in range(_TARE_READS):
        insole.sampler.read_set(values)
        i = 0
        for bit in range(p.PAD_COUNT):
            if present >> bit & 1:
                sums[bit] += values[i]
                i += 1
    tare = list(insole.config.tare)
    for bit in range(p.PAD_COUNT):
        if pad_mask >> bit & 1:
            tare[bit] = sums[bit] // _TARE_READS
    return insole.config.set_tare(tare)
