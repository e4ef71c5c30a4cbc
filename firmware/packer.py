# Frame packer: decides how sample sets become data frames for the link and writes them into
# the ring. A frame never exceeds MTU - 3 bytes (one notification) nor spans more than
# MAX_FRAME_SPAN_MS; a gap in the sampling grid or a new configuration ends the frame.
import protocol as p
from ring import BLOCK_MAX_SAMPLE_BYTES


def sets_per_frame(mtu, n_pads, rate_hz):
    """Sample sets per data frame for a link MTU, number of pads present and rate."""
    room = min(mtu - p.ATT_OVERHEAD_BYTES, p.MAX_FRAME_BYTES) - p.DATA_OVERHEAD_BYTES
    return _fit(room, n_pads, rate_hz)


def _fit(room, n_pads, rate_hz):
    by_size = 1
    while p.packed_bytes((by_size + 1) * n_pads) <= room:
        by_size += 1
    by_span = max(1, rate_hz * p.MAX_FRAME_SPAN_MS // 1000)
    return min(by_size, by_span)


class Packer:
    def __init__(self, ring, mtu=p.DEFAULT_MTU):
        self.ring = ring
        self.mtu = mtu
        self.pad_mask = p.ALL_PADS_MASK
        self.n_pads = p.PAD_COUNT
        self.rate_hz = p.RATE_DEFAULT_HZ
        self._resize()

    def _resize(self):
        self.max_sets = sets_per_frame(self.mtu, self.n_pads, self.rate_hz)
        # A ring block holds whole frames, up to what one MTU-247 frame would.
        block = _fit(BLOCK_MAX_SAMPLE_BYTES, self.n_pads, self.rate_hz)
        self.block_sets = max(1, block // self.max_sets) * self.max_sets

    @property
    def last_seq(self):
        return (self.ring.next_seq - 1) & 0xFFFF

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
        ring = self.ring
        if gap:
            ring.close_block()
        if ring.open_off < 0:
            ring.begin_block(self.pad_mask, self.rate_hz, t_us, self.max_sets, self.block_sets)
        ring.add_set(values)

    def flush(self):
        self.ring.close_block()
