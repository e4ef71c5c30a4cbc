# Ring buffer of data frames: the live send queue and the history that answers RESEND.
#
# Frames are stored in blocks, one preallocated bytearray for all: a block holds up to
# MAX_FRAME_SPAN_MS of consecutive sample sets (at most 233 packed bytes) under one header,
# and is cut into frames of `sets_per_frame` sets when sent, so small frames (MTU 23: one
# six-pad set each) cost 9 bytes of memory rather than a header apiece. Block layout:
#   n_sets u8, sets_per_frame u8, pad_mask u8, rate_hz u8, t_first_us (24 bit LE), samples.
# Frames get consecutive sequence numbers as their sets complete; a frame's t_first_us is the
# block's plus its first set's index times the sampling period (sets in a block are on the
# sampling grid: a gap starts a new block). Blocks never straddle the end of the buffer: the
# writer wraps early and `_limit` marks where.
# 29 KB hold 31 s of six-pad sets at 100 Hz, whatever the MTU.
from array import array

from micropython import const

import protocol as p

RING_BYTES = const(29696)
BLOCK_HEAD_BYTES = const(7)
BLOCK_MAX_SAMPLE_BYTES = const(233)  # what one MTU-247 frame carries
_RESEND_SLOTS = const(8)
_SEQ_MASK = const(0xFFFF)


class Ring:
    def __init__(self, capacity=RING_BYTES, buf=None):
        """buf: a bytearray to use (main.py allocates it first, before the heap fragments)."""
        self.buf = bytearray(capacity) if buf is None else buf
        capacity = len(self.buf)
        self.cap = capacity
        self.frames_sent = 0
        self.frames_resent = 0
        self.frames_dropped = 0
        # Pending resend ranges as (first seq, frame count) pairs, oldest first.
        self._queue = array("H", bytes(4 * _RESEND_SLOTS))
        self._queued = 0
        self.next_seq = 0
        self.live_enabled = True
        self.head = 0
        self.tail = 0
        self._limit = capacity
        self._wrapped = False
        self.count = 0  # frames held (complete ones in the open block included)
        self.blocks = 0
        self.first_seq = 0
        self.held_dms = 0  # history in closed blocks, in 0.1 ms
        self.open_off = -1  # offset of the block being filled, or -1
        self._open_pads = 0
        self._open_max = 0
        self.live_seq = 0
        self._rs_seq = 0
        self._rs_left = 0
        self._pending = 0  # 1 live, 2 resend: what next_frame() handed out
        # Where the last frame looked up lives (block offset, its first seq, frame index),
        # cached per cursor so sending walks the blocks once, not once per frame.
        self._cache_off = array("i", (-1, -1))
        self._cache_seq = array("H", (0, 0))
        self._loc_off = 0
        self._loc_j = 0

    # -- filling ---------------------------------------------------------------------------

    def begin_block(self, pad_mask, rate_hz, t_first_us, sets_per_frame, max_sets):
        """Open a block for up to max_sets sets (a multiple of sets_per_frame)."""
        self.close_block()
        n_pads = p.PAD_COUNT_OF[pad_mask]
        self._make_room(BLOCK_HEAD_BYTES + p.packed_bytes(max_sets * n_pads))
        b = self.buf
        off = self.head
        b[off] = 0
        b[off + 1] = sets_per_frame
        b[off + 2] = pad_mask
        b[off + 3] = rate_hz
        b[off + 4] = t_first_us & 0xFF
        b[off + 5] = (t_first_us >> 8) & 0xFF
        b[off + 6] = (t_first_us >> 16) & 0xFF
        if self.blocks == 0:
            self.tail = off
            self.first_seq = self.next_seq
        self.blocks += 1
        self.open_off = off
        self._open_pads = n_pads
        self._open_max = max_sets

    def add_set(self, values):
        """Append one sample set (values[0:n_pads]) to the open block; True if it closed."""
        off = self.open_off
        b = self.buf
        n_sets = b[off]
        n_pads = self._open_pads
        first = n_sets * n_pads
        base = off + BLOCK_HEAD_BYTES
        for i in range(n_pads):
            p.put12(b, base, first + i, values[i])
        n_sets += 1
        b[off] = n_sets
        if n_sets % b[off + 1] == 0:
            self._frame_done()
        if n_sets >= self._open_max:
            self.close_block()
            return True
        return False

    def close_block(self):
        off = self.open_off
        if off < 0:
            return
        b = self.buf
        if b[off] % b[off + 1]:
            self._frame_done()  # the last, short frame
        self.head = off + BLOCK_HEAD_BYTES + p.packed_bytes(b[off] * self._open_pads)
        self.held_dms += self._block_dms(off)
        self.open_off = -1

    def _frame_done(self):
        self.count += 1
        self.next_seq = (self.next_seq + 1) & _SEQ_MASK
        if not self.live_enabled:
            self.live_seq = self.next_seq

    # -- storage ---------------------------------------------------------------------------

    def held(self, seq):
        return ((seq - self.first_seq) & _SEQ_MASK) < self.count

    def _block_len(self, off):
        b = self.buf
        return BLOCK_HEAD_BYTES + p.packed_bytes(b[off] * p.PAD_COUNT_OF[b[off + 2]])

    def _block_dms(self, off):
        b = self.buf
        return b[off] * 10000 // b[off + 3]

    def _frames_in(self, off):
        b = self.buf
        if off == self.open_off:
            return b[off] // b[off + 1]
        return (b[off] + b[off + 1] - 1) // b[off + 1]

    def _after(self, off):
        off += self._block_len(off)
        if self._wrapped and off >= self._limit:
            return 0
        return off

    def _evict(self):
        off = self.tail
        n = self._frames_in(off)
        first = self.first_seq
        self.held_dms -= self._block_dms(off)
        nxt = self._after(off)
        self.first_seq = (first + n) & _SEQ_MASK
        self.count -= n
        self.blocks -= 1
        if self.blocks == 0:
            self.tail = self.head
            self._wrapped = False
            self._limit = self.cap
        else:
            if nxt == 0:
                self._wrapped = False
                self._limit = self.cap
            self.tail = nxt
        for cursor in range(2):
            if self._cache_off[cursor] == off:
                self._cache_off[cursor] = -1
        gone = (self.live_seq - first) & _SEQ_MASK
        if self.live_enabled and gone < n:
            self.frames_dropped = (self.frames_dropped + n - gone) & _SEQ_MASK
            self.live_seq = self.first_seq
        gone = (self._rs_seq - first) & _SEQ_MASK
        if self._rs_left and gone < n:
            skipped = min(n - gone, self._rs_left)
            self._rs_left -= skipped
            self._rs_seq = (self._rs_seq + skipped) & _SEQ_MASK

    def _make_room(self, length):
        while True:
            if not self._wrapped:
                if self.head + length <= self.cap:
                    return
                if self.blocks == 0:
                    self.head = self.tail = 0
                    continue
                self._limit = self.head
                self.head = 0
                self._wrapped = True
            if self.head + length <= self.tail:
                return
            self._evict()

    def _locate(self, seq, cursor):
        """Find held frame seq: sets self._loc_off (its block) and self._loc_j (its index)."""
        off = self._cache_off[cursor]
        base = self._cache_seq[cursor]
        first = self.first_seq
        if off < 0 or not self.held(base) or ((seq - first) & _SEQ_MASK) < ((base - first) &
                                                                             _SEQ_MASK):
            off = self.tail
            base = first
        while True:
            j = (seq - base) & _SEQ_MASK
            n = self._frames_in(off)
            if j < n:
                break
            base = (base + n) & _SEQ_MASK
            off = self._after(off)
        self._cache_off[cursor] = off
        self._cache_seq[cursor] = base
        self._loc_off = off
        self._loc_j = j

    def _frame_len(self):
        b = self.buf
        off = self._loc_off
        spf = b[off + 1]
        sets = b[off] - self._loc_j * spf
        if sets > spf:
            sets = spf
        return p.DATA_OVERHEAD_BYTES + p.packed_bytes(sets * p.PAD_COUNT_OF[b[off + 2]])

    def _encode_located(self, seq, tag, out):
        b = self.buf
        off = self._loc_off
        spf = b[off + 1]
        mask = b[off + 2]
        rate = b[off + 3]
        n_pads = p.PAD_COUNT_OF[mask]
        first_set = self._loc_j * spf
        sets = b[off] - first_set
        if sets > spf:
            sets = spf
        t_us = (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16)) + \
            first_set * (1000000 // rate)
        p.put_data_head(out, mask, tag, seq, t_us, rate)
        base = off + BLOCK_HEAD_BYTES
        v0 = first_set * n_pads
        nv = sets * n_pads
        if v0 & 1:
            for i in range(nv):
                p.put12(out, p.DATA_SAMPLES_OFFSET, i, p.get12(b, base, v0 + i))
        else:
            src = base + 3 * (v0 >> 1)
            nbytes = p.packed_bytes(nv)
            for i in range(nbytes):
                out[p.DATA_SAMPLES_OFFSET + i] = b[src + i]
            if nv & 1:  # the block's next value shares this byte: an odd last value has none
                out[p.DATA_SAMPLES_OFFSET + nbytes - 1] &= 0x0F
        return p.finish(out, p.DATA_SAMPLES_OFFSET + p.packed_bytes(nv))

    def encode(self, seq, tag, out):
        """The wire frame of a held seq into out; return its length (0 if not held)."""
        if not self.held(seq):
            return 0
        self._locate(seq, 1)
        return self._encode_located(seq, tag, out)

    def span_ds(self):
        dms = self.held_dms
        if self.open_off >= 0:
            dms += self._block_dms(self.open_off)
        return dms // 1000

    def oldest_seq(self):
        return self.first_seq if self.count else self.next_seq

    # -- sending ---------------------------------------------------------------------------

    def set_live(self, enabled):
        """With no link up, frames are only kept for resend; the live queue starts afresh."""
        self.live_enabled = enabled
        if not enabled:
            self.live_seq = self.next_seq

    def next_frame(self, out, tag, max_len):
        """Encode the next frame to send (live before resend) into out; return its length.

        0 means nothing to send. The frame stays queued until sent() is called, so a link that
        refused it (radio back-pressure) gets the same frame on the next call. Held frames too
        long for the link (built before a smaller MTU was negotiated) are skipped.
        """
        while self.live_enabled and self.held(self.live_seq):
            self._locate(self.live_seq, 0)
            if self._frame_len() <= max_len:
                self._pending = 1
                return self._encode_located(self.live_seq, tag, out)
            self.live_seq = (self.live_seq + 1) & _SEQ_MASK
        while True:
            if not self._rs_left and not self._start_resend():
                return 0
            if self.held(self._rs_seq):
                self._locate(self._rs_seq, 1)
                if self._frame_len() <= max_len:
                    self._pending = 2
                    return self._encode_located(self._rs_seq, tag, out)
            self._rs_left -= 1
            self._rs_seq = (self._rs_seq + 1) & _SEQ_MASK

    def sent(self):
        """The frame from the last next_frame() went out."""
        if self._pending == 1:
            self.frames_sent = (self.frames_sent + 1) & _SEQ_MASK
            self.live_seq = (self.live_seq + 1) & _SEQ_MASK
        elif self._pending == 2:
            self.frames_resent = (self.frames_resent + 1) & _SEQ_MASK
            self._rs_left -= 1
            self._rs_seq = (self._rs_seq + 1) & _SEQ_MASK
        self._pending = 0

    def _start_resend(self):
        while self._queued:
            first = self._queue[0]
            n = self._queue[1]
            self._queued -= 1
            for i in range(2 * self._queued):
                self._queue[i] = self._queue[i + 2]
            first, n = self._clip(first, n)
            if n:
                self._rs_seq = first
                self._rs_left = n
                return True
        return False

    def _clip(self, first, n):
        """The part of n frames from first that is still held: (first, n)."""
        d = (first - self.first_seq) & _SEQ_MASK
        if d < self.count:
            return first, min(n, self.count - d)
        # Starts before the oldest held frame: keep what reaches into the history.
        reach = d + n - (_SEQ_MASK + 1)
        if reach > 0:
            return self.first_seq, min(reach, self.count)
        return first, 0

    def request_resend(self, first_seq, last_seq):
        """Queue frames first..last (inclusive, modulo 2^16); return (result, queued)."""
        first, n = self._clip(first_seq, ((last_seq - first_seq) & _SEQ_MASK) + 1)
        if not n:
            return p.RESULT_NOT_HELD, 0
        if self._queued >= _RESEND_SLOTS:
            return p.RESULT_OUT_OF_RANGE, 0  # too many outstanding requests; host retries
        self._queue[2 * self._queued] = first
        self._queue[2 * self._queued + 1] = n
        self._queued += 1
        return p.RESULT_OK, n
