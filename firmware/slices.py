# Exact-length views of one buffer, made once per length and reused, so sending a frame of
# n bytes (gatts_notify, stream write) needs no new memoryview each time.
class Slices:
    def __init__(self, buf):
        self.buf = buf
        self._whole = memoryview(buf)
        self._views = {}

    def view(self, n):
        v = self._views.get(n)
        if v is None:
            v = self._views[n] = self._whole[:n]
        return v
