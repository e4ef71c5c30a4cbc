# Frame packer: collects sample sets into data frames sized for the link and hands finished
# frames to the ring. A frame never exceeds MTU - 3 bytes (one notification) nor spans more
# than MAX_FRAME_SPAN_MS, and a gap in the sampling grid ends the frame.
import protocol as p


def sets_per_frame(mtu, n_pads, rate_hz):
    """Sample sets per data frame for a link MTU, number of pads present and rate."""
    room = min(mtu - p.ATT_OVERHEAD_BYTES, p.MAX_FRAME_BYTES) - p.DATA_OVERHEAD_BYTES
    by_size = 1
    while p.packed_bytes((by_size + 1) * n_pads) <= room:
        by_size += 1
    by_span = max(1, rate_hz * p.MAX_FRAME_SPAN_MS // 1000)
    return min(by_size, by_span)


class Packer:
    def __init__(self, ring, mtu=p.DEFAULT_MTU):
        self.ring = ring
        self.samples = bytearray(p.MAX_FRAME_BYTES)
        self.mtu = mtu
        self.pad_mask = p.ALL_PADS_MASK
        self.n_pads = p.PAD_COUNT
        self.rate_hz = p.RATE_DEFAULT_HZ
        self.n_values = 0
        self.n_sets = 0
        self.t_first_us = 0
        self.last_seq = 0
        self._resize()

    def _resize(self):
        self.max_sets = sets_per_frame(self.mtu, self.n_pads, self.rate_hz)

    def configure(self, pad_mask, rate_hz, mtu):
        """New pads, rate or link MTU: the frame being built is finished first."""
        self.flush()
        self.pad_mask = pad_mask
        self.n_pads = p.PAD_COUNT_OF[pad_mask]
        self.rate_hz = rate_hz
        self.mtu = mtu
        self._resize()

    def add(self, values, t_us, gap):
        """Append one sample set (values[0:n_pads]) taken at device time t_us."""
        if gap:
            self.flush()
        if self.n_sets == 0:
            self.t_first_us = t_us
        base = self.n_values
        for i in range(self.n_pads):
            p.put12(self.samples, 0, base + i, values[i])
        self.n_values = base + self.n_pads
        self.n_sets += 1
        if self.n_sets >= self.max_sets:
            self.flush()

    def flush(self):
        if self.n_sets:
            self.last_seq = self.ring.append(self.pad_mask, self.rate_hz, self.t_first_us,
                                             self.samples, self.n_values)
            self.n_values = 0
            self.n_sets = 0
