# USB serial link: each frame COBS-encoded and followed by a 0x00 delimiter, both directions.
# A receiver that meets garbage or a cut frame drops bytes up to the next 0x00 and carries on.
import select

import protocol as p
from slices import Slices


def cobs_max(n):
    """Encoded size of n bytes, delimiter included."""
    return n + n // 254 + 2


def cobs_encode(src, n, dst):
    """COBS of src[0:n] plus the 0x00 delimiter into dst; return the length written."""
    code_at = 0
    out = 1
    code = 1
    for i in range(n):
        b = src[i]
        if b == 0:
            dst[code_at] = code
            code_at = out
            out += 1
            code = 1
        else:
            dst[out] = b
            out += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at = out
                out += 1
                code = 1
    dst[code_at] = code
    dst[out] = 0
    return out + 1


def cobs_decode(src, n, dst):
    """Decode src[0:n] (no delimiter) into dst; return the length, or -1 if malformed."""
    i = 0
    out = 0
    limit = len(dst)
    while i < n:
        code = src[i]
        if code == 0 or i + code > n or out + code - 1 > limit:
            return -1
        i += 1
        for _ in range(code - 1):
            if src[i] == 0:
                return -1
            dst[out] = src[i]
            out += 1
            i += 1
        if code != 0xFF and i < n:
            if out >= limit:
                return -1
            dst[out] = 0
            out += 1
    return out


class SerialLink:
    def __init__(self, stream_in, stream_out, max_frame=p.MAX_FRAME_BYTES):
        self._in = stream_in
        self._out = stream_out
        self._poll = select.poll()
        self._poll.register(stream_in, select.POLLIN)
        self._rx = bytearray(cobs_max(max_frame))
        self._rx_n = 0
        self._overflow = False
        self.frame = bytearray(max_frame)
        self._tx = Slices(bytearray(cobs_max(max_frame)))
        self.frames_rejected = 0
        self.closed = False

    def send(self, frame, n):
        """Write frame[0:n] as one COBS packet (blocking)."""
        m = cobs_encode(frame, n, self._tx.buf)
        self._out.write(self._tx.view(m))

    def receive(self):
        """Read what is waiting without blocking; return the length of the next whole frame
        (in self.frame), or 0 when none is complete. Garbage and over-long packets are dropped
        and counted in frames_rejected."""
        while not self.closed and self._poll.poll(0):
            chunk = self._in.read(1)
            if not chunk:
                self.closed = True  # end of input (the unix port's stdin was closed)
                break
            c = chunk[0]
            if c != 0:
                if self._rx_n < len(self._rx):
                    self._rx[self._rx_n] = c
                    self._rx_n += 1
                else:
                    self._overflow = True
                continue
            n = self._rx_n
            overflow = self._overflow
            self._rx_n = 0
            self._overflow = False
            if n == 0:
                continue
            length = -1 if overflow else cobs_decode(self._rx, n, self.frame)
            if length > 0:
                return length
            self.frames_rejected += 1
        return 0
