# Ring buffer of finished data frames: the live send queue and the history that answers RESEND.
#
# Frames are held as compact records in one preallocated bytearray, so the same memory holds
# more frames when they are small (MTU 23) and fewer when they are large:
#   n_values u8, pad_mask u8, rate_hz u8, t_first_us (24 bit LE), packed samples.
# The sequence number is implied by the record's place (records are consecutive). Records
# never straddle the end of the buffer: the writer wraps early and `_limit` marks where.
# 47 KB holds 31 s of six-pad sets at 100 Hz one set per frame (MTU 23), 50 s at MTU 247.
from array import array

from micropython import const

import protocol as p

RING_BYTES = const(47104)
_REC_HEAD = const(6)
_RESEND_SLOTS = const(8)
_SEQ_MASK = const(0xFFFF)


class Ring:
    def __init__(self, capacity=RING_BYTES):
        self.buf = bytearray(capacity)
        self.cap = capacity
        self.frames_sent = 0
        self.frames_resent = 0
        self.frames_dropped = 0
        # Pending resend ranges as (first seq, frame count) pairs, oldest first.
        self._queue = array("H", bytes(4 * _RESEND_SLOTS))
        self._queued = 0
        self.next_seq = 0
        self.live_enabled = True
        self._reset()

    def _reset(self):
        self.head = 0
        self.tail = 0
        self._limit = self.cap
        self._wrapped = False
        self.count = 0
        self.first_seq = self.next_seq
        self._newest_off = -1
        self.held_dms = 0  # history held, in 0.1 ms
        self.live_seq = self.next_seq
        self._live_off = -1
        self._rs_seq = 0
        self._rs_left = 0
        self._rs_off = -1
        self._pending = 0  # 1 live, 2 resend: what next_frame() handed out

    # -- storage ---------------------------------------------------------------------------

    def held(self, seq):
        return ((seq - self.first_seq) & _SEQ_MASK) < self.count

    def _rec_len(self, off):
        return _REC_HEAD + p.packed_bytes(self.buf[off])

    def _frame_len(self, off):
        return p.DATA_OVERHEAD_BYTES + p.packed_bytes(self.buf[off])

    def _rec_dms(self, off):
        b = self.buf
        return b[off] // max(1, p.PAD_COUNT_OF[b[off + 1]]) * 10000 // b[off + 2]

    def _after(self, off):
        off += self._rec_len(off)
        if self._wrapped and off >= self._limit:
            return 0
        return off

    def _offset_of(self, seq):
        if ((seq - self.first_seq) & _SEQ_MASK) == self.count - 1:
            return self._newest_off
        off = self.tail
        for _ in range((seq - self.first_seq) & _SEQ_MASK):
            off = self._after(off)
        return off

    def _evict(self):
        off = self.tail
        seq = self.first_seq
        self.held_dms -= self._rec_dms(off)
        nxt = self._after(off)
        self.first_seq = (seq + 1) & _SEQ_MASK
        self.count -= 1
        if self.count == 0:
            self.tail = self.head
            self._wrapped = False
            self._limit = self.cap
            nxt = -1
        else:
            if nxt == 0:
                self._wrapped = False
                self._limit = self.cap
            self.tail = nxt
        if self.live_enabled and seq == self.live_seq:
            self.frames_dropped += 1
            self.live_seq = self.first_seq
            self._live_off = nxt
        if self._rs_left and seq == self._rs_seq:
            self._rs_seq = self.first_seq
            self._rs_left -= 1
            self._rs_off = nxt

    def _make_room(self, length):
        while True:
            if not self._wrapped:
                if self.head + length <= self.cap:
                    return
                if self.count == 0:
                    self.head = self.tail = 0
                    continue
                self._limit = self.head
                self.head = 0
                self._wrapped = True
            if self.head + length <= self.tail:
                return
            self._evict()

    def append(self, pad_mask, rate_hz, t_first_us, samples, n_values):
        """Store a finished frame (samples packed from offset 0); return its seq."""
        nbytes = p.packed_bytes(n_values)
        self._make_room(_REC_HEAD + nbytes)
        b = self.buf
        off = self.head
        b[off] = n_values
        b[off + 1] = pad_mask
        b[off + 2] = rate_hz
        b[off + 3] = t_first_us & 0xFF
        b[off + 4] = (t_first_us >> 8) & 0xFF
        b[off + 5] = (t_first_us >> 16) & 0xFF
        base = off + _REC_HEAD
        for i in range(nbytes):
            b[base + i] = samples[i]
        self.head = base + nbytes
        if self.count == 0:
            self.tail = off
            self.first_seq = self.next_seq
        self.count += 1
        self._newest_off = off
        seq = self.next_seq
        self.next_seq = (seq + 1) & _SEQ_MASK
        self.held_dms += self._rec_dms(off)
        if not self.live_enabled:
            self.live_seq = self.next_seq
        return seq

    def encode(self, seq, tag, out):
        """The wire frame of a held seq into out; return its length (0 if not held)."""
        if not self.held(seq):
            return 0
        return self._encode_at(self._offset_of(seq), seq, tag, out)

    def _encode_at(self, off, seq, tag, out):
        b = self.buf
        nbytes = p.packed_bytes(b[off])
        p.put_data_head(out, b[off + 1], tag, seq, b[off + 3] | (b[off + 4] << 8) |
                        (b[off + 5] << 16), b[off + 2])
        base = off + _REC_HEAD
        for i in range(nbytes):
            out[p.DATA_SAMPLES_OFFSET + i] = b[base + i]
        return p.finish(out, p.DATA_SAMPLES_OFFSET + nbytes)

    def span_ds(self):
        return self.held_dms // 1000

    def oldest_seq(self):
        return self.first_seq if self.count else self.next_seq

    # -- sending ---------------------------------------------------------------------------

    def set_live(self, enabled):
        """With no link up, frames are only kept for resend; the live queue starts afresh."""
        self.live_enabled = enabled
        if not enabled:
            self.live_seq = self.next_seq
            self._live_off = -1

    def next_frame(self, out, tag, max_len):
        """Encode the next frame to send (live before resend) into out; return its length.

        0 means nothing to send. The frame stays queued until sent() is called, so a link that
        refused it (radio back-pressure) gets the same frame on the next call. Held frames too
        long for the link (built before a smaller MTU was negotiated) are skipped.
        """
        while self.live_enabled and self.held(self.live_seq):
            if self._live_off < 0:
                self._live_off = self._offset_of(self.live_seq)
            if self._frame_len(self._live_off) <= max_len:
                self._pending = 1
                return self._encode_at(self._live_off, self.live_seq, tag, out)
            self._advance_live()
        while True:
            if not self._rs_left:
                if not self._start_resend():
                    return 0
            if self._frame_len(self._rs_off) <= max_len:
                self._pending = 2
                return self._encode_at(self._rs_off, self._rs_seq, tag, out)
            self._advance_resend()

    def sent(self):
        """The frame from the last next_frame() went out."""
        if self._pending == 1:
            self.frames_sent += 1
            self._advance_live()
        elif self._pending == 2:
            self.frames_resent += 1
            self._advance_resend()
        self._pending = 0

    def _advance_live(self):
        off = self._live_off
        self.live_seq = (self.live_seq + 1) & _SEQ_MASK
        self._live_off = self._after(off) if self.held(self.live_seq) else -1

    def _advance_resend(self):
        self._rs_left -= 1
        self._rs_seq = (self._rs_seq + 1) & _SEQ_MASK
        self._rs_off = self._after(self._rs_off) if self._rs_left else -1

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
                self._rs_off = self._offset_of(first)
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
