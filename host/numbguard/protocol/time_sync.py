"""Put each insole's clock on the host's timeline, so left and right share one time axis.

Two kinds of evidence, both taken from what is recorded, so a replay aligns exactly as the
live session did:

- Time-sync round trips: the host sends TIME_SYNC with its own send time in microseconds as the
  token, the insole replies with its clock at receipt; with the reply's receive time that
  gives an offset sample ``(t_send + t_receive) / 2 - t_device`` good to half the round trip.
- Data frames: a frame cannot arrive before its last sample was taken, so
  ``t_receive - t_device_last_sample`` bounds the offset from above, and its running minimum
  (the lower envelope) approaches the offset plus the smallest link latency.

Drift (crystal tolerance, tens of ppm: about 0.1 s an hour) is a least-squares line through
the time-sync samples, weighted by the inverse of their round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOKEN_MODULUS_US = 1 << 32

# A round trip longer than this says the radio was busy; its midpoint is too vague to use.
MAX_ROUND_TRIP_S = 0.25
# Drift needs samples this far apart before a fitted slope beats assuming none.
MIN_DRIFT_SPAN_S = 30.0
# A crystal is within 100 ppm; a fitted slope beyond that is noise, not drift.
MAX_DRIFT_PPM = 100.0


def token_from_host_time(t_host_s: float) -> int:
    """The TIME_SYNC token for a send at host time `t_host_s`: its microseconds, mod 2^32."""
    return round(t_host_s * 1e6) % TOKEN_MODULUS_US


def host_time_from_token(token: int, t_receive_s: float) -> float:
    """Undo `token_from_host_time` for the send just before a reply received at `t_receive_s`."""
    receive_us = round(t_receive_s * 1e6)
    send_us = receive_us - ((receive_us - token) % TOKEN_MODULUS_US)
    return send_us / 1e6


@dataclass
class ClockAligner:
    """Maps one insole's unwrapped device time (s) to host time (s)."""

    sync_samples: list[tuple[float, float, float]] = field(default_factory=list)
    envelope_offset_s: float | None = None

    def add_sync(self, t_send_s: float, t_receive_s: float, t_device_s: float) -> None:
        round_trip_s = t_receive_s - t_send_s
        if round_trip_s < 0 or round_trip_s > MAX_ROUND_TRIP_S:
            return
        self.sync_samples.append((t_device_s, (t_send_s + t_receive_s) / 2, round_trip_s))

    def add_frame(self, t_receive_s: float, t_device_last_sample_s: float) -> None:
        offset_s = t_receive_s - t_device_last_sample_s
        if self.envelope_offset_s is None or offset_s < self.envelope_offset_s:
            self.envelope_offset_s = offset_s

    def to_host_s(self, t_device_s: float) -> float:
        """Host time of a device time; the identity until any evidence has come."""
        offset_s, drift = self._model()
        return t_device_s + offset_s + drift * t_device_s

    def _model(self) -> tuple[float, float]:
        if not self.sync_samples:
            return (self.envelope_offset_s or 0.0), 0.0
        weights = [1.0 / max(rtt, 1e-4) for _, _, rtt in self.sync_samples]
        devices = [device for device, _, _ in self.sync_samples]
        offsets = [host - device for device, host, _ in self.sync_samples]
        total = sum(weights)
        mean_device = sum(w * d for w, d in zip(weights, devices, strict=True)) / total
        mean_offset = sum(w * o for w, o in zip(weights, offsets, strict=True)) / total
        drift = 0.0
        if max(devices) - min(devices) >= MIN_DRIFT_SPAN_S:
            spread = sum(w * (d - mean_device) ** 2 for w, d in zip(weights, devices, strict=True))
            covariance = sum(
                w * (d - mean_device) * (o - mean_offset)
                for w, d, o in zip(weights, devices, offsets, strict=True)
            )
            drift = covariance / spread
            drift = max(-MAX_DRIFT_PPM * 1e-6, min(MAX_DRIFT_PPM * 1e-6, drift))
        return mean_offset - drift * mean_device, drift
