"""Every threshold of the risk model in one place, with units in the names.

Sources are in `docs/risk-model.md` and on each field below: a number either rests on a fact of
the product brief (with its citation) or is a documented, configurable judgement.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from numbguard.errors import BadValue


@dataclass(frozen=True)
class RiskConfig:
    """Thresholds of the risk rules and of the alert logic.

    Level and time are combined everywhere: a rule's condition must hold for `persist_s` before
    an alert is raised, and the pressure-time integral (dose) over the condition escalates it.
    """

    # --- windows and alert logic (judgement) ---
    window_s: float = 2.0
    """Analysis window. 2 s always holds one swing of a slow walk (stance < 1 s), so a
    window minimum is a swing or static level. Judgement."""
    min_valid_fraction: float = 0.5
    """A window with fewer valid samples (packet loss) is not assessed. Judgement."""
    persist_s: float = 12.0
    """Condition time before an alert: short enough to warn within 30 s of onset (the issue's
    requirement), long enough that a few odd steps do not. Judgement."""
    recover_s: float = 30.0
    """Time below the hold level before an alert is cleared. Judgement."""
    repeat_s: float = 300.0
    """Least time between two raises of the same kind on the same foot (no nagging). Judgement."""
    baseline_s: float = 60.0
    """Steady stepping time whose median makes up the runner's own baseline, per activity
    bout (`risk/bouts.py`). Judgement."""
    baseline_settle_s: float = 30.0
    """Time after a bout starts before its windows may set a baseline: the first strides of a
    run (speeding up, settling) are not its steady state. Judgement."""
    bout_change_s: float = 10.0
    """A different activity (walking, running, a machine) held this long starts a new bout:
    its baseline starts over rather than being compared across activities. Judgement."""
    bout_pause_s: float = 300.0
    """A pause without steps this long (a stop, a drill, a rest) starts a new bout. Shorter
    stops (a crossing) keep the bout and its baseline. Judgement."""
    baseline_refresh_s: float = 1200.0
    """Over a long bout, steady time after which the baseline is taken again; only a lower
    value replaces it (a refresh must not absorb the slow rise the rules look for). Judgement."""
    cyclic_min_relief: float = 0.35
    """Steps: the summed plantar load drops by at least this share of its peak in each half of
    a window (stance and swing, or pedal push and recovery, at most ~2 s per cycle). Walking
    and running drop ~1, an elliptical ~0.5 (the other foot takes the weight), weight shifts
    and calf raises with the body weight kept on the foot less. Calf raises can drop as much
    as an elliptical (on the toes the heel unloads and the toes, which no pad measures, take
    load), so machine-like windows also need a machine's pace (`machine_max_cycle_s`).
    Judgement."""
    machine_max_relief: float = 0.8
    """A stepping window whose load relief stays under this is a machine (the pedal carries
    the foot): its own activity for the baseline. Judgement."""
    machine_max_cycle_s: float = 1.75
    """Such a window (relief under `machine_max_relief`) is cyclic loading only when its
    forefoot loads at least once per this time (`risk/cycles.py`); a foot that steps off its
    load (walking, running) needs no pace. A machine is driven at its stroke or step rate: an
    elliptical at 50-80 strides/min is 0.75-1.2 s per foot, a stair machine at 70-100
    steps/min is 1.2-1.7 s per foot (each foot steps every second step). Calf raises and
    weight shifts are done on the spot at the pace of a controlled rise, 2 s or more per
    raise (30/min is a brisk set). In one foot's window the two look alike otherwise: on the
    toes the heel unloads while the ball pads read ~3x their standing load (the toes carry
    the rest), so the summed load drops by about half, as on an elliptical. Judgement; a
    stair machine slower than ~70 steps/min is not told from calf raises."""
    running_max_duty: float = 0.47
    """Contact duty (share of time the foot is loaded) under which stepping is running: each
    foot is loaded ~60% of the time walking, ~30-40% running (the same split as
    `analysis/activity.py`; 0.29-0.41 on the treadmill runs of Alcantara et al. 2022, PeerJ
    10:e12752, in ../shared/realdata/running). Judgement."""
    active_forefoot_range_kpa: float = 50.0
    """A window whose busiest forefoot pad swings by this much is cyclic loading (walking,
    running, elliptical). Judgement, well below walking forefoot peaks (~150-250 kPa)."""

    # --- tight_lacing ---
    lace_static_on_kpa: float = 15.0
    """Dorsal (lace) pressure held through swing (window 10th percentile). Judgement: the brief
    found no published comfort threshold; 15 kPa sits above 10.7 kPa (80 mmHg), which over 4 h
    caused endoneurial oedema (Lundborg 1983, J Neurol Neurosurg Psychiatry 46:1119)."""
    lace_static_off_kpa: float = 11.0
    """Hold level (hysteresis) for tight lacing; ~10.7 kPa, Lundborg 1983."""
    lace_rise_over_baseline_kpa: float = 8.0
    """Rise of static lace pressure over the runner's baseline that counts on its own (with at
    least `lace_static_off_kpa`). Judgement."""
    lace_severe_kpa: float = 27.0
    """Static lace pressure at which conduction was reduced (200 mmHg = 27 kPa, Dahlin/Lundborg
    in the brief): escalates to `alert`."""
    lace_dose_alert_kpa_min: float = 160.0
    """Static lace pressure-time integral (over the condition) that escalates to `alert`:
    e.g. 16 kPa for 10 min. Judgement, scaled down from 10.7 kPa x 4 h in animal data."""

    # --- forefoot_overload ---
    forefoot_peak_on_kpa: float = 450.0
    """Forefoot peak per window: 313 + 2 x 69 kPa, the top of the running range (J Foot Ankle
    Res, doi 10.1186/s13047-016-0176-z)."""
    forefoot_peak_off_kpa: float = 400.0
    """Hold level (hysteresis) for forefoot overload. Judgement."""
    forefoot_rise_ratio: float = 1.3
    """Sum of the forefoot pad peaks over the runner's own baseline sum that counts on its own
    (forefoot pressure rises after long runs, per the brief). Judgement."""
    forefoot_rise_min_kpa: float = 350.0
    """A baseline-relative rise only counts above this peak. Judgement."""
    forefoot_severe_kpa: float = 600.0
    """Low end of the 600-730 kPa read by discrete transducers under the 2nd metatarsal head
    at 3-4.5 m/s (brief): escalates to `alert`."""
    forefoot_rise_ratio_off: float = 1.2
    """Hold level (hysteresis) of the baseline-relative rise. Judgement."""
    forefoot_effort_exponent: float = 0.7
    """The runner's own load-effort relation: a faster run shortens the contact and raises the
    peaks as duty ** -exponent, so a rise is judged on peak sum x duty ** exponent (the same
    at any effort) against its baseline. 0.7: the fit of peak force on contact duty over the
    level treadmill runs at 2.5-4.17 m/s of Alcantara et al. 2022 (PeerJ 10:e12752;
    ../shared/realdata/running; 0.96 over all slopes, 1 for a sine-shaped contact of fixed
    impulse), the smaller, which scales less. Under the 2nd metatarsal head peaks rise ~15%
    from 3.0 to 4.5 m/s (brief)."""
    forefoot_rise_sustain_s: float = 240.0
    """A rise over the baseline must have held this long (with gaps under `recover_s`) before it
    counts: a harder repetition (intervals of a few minutes) is effort, not the slow rise of
    a long run. The absolute levels need no such time. Judgement."""
    forefoot_dose_alert_kpa_min: float = 1000.0
    """Pressure-time integral of the overloaded pad over the condition that escalates to
    `alert`: about 15 min of overloaded running. Judgement."""

    # --- metatarsal_hotspot ---
    hotspot_share_on: float = 0.58
    """Share of forefoot load on one pad (3 forefoot pads present). Judgement: in a normal
    run the centre pad carries ~0.45."""
    hotspot_share_off: float = 0.52
    """Hold level (hysteresis). Judgement."""
    hotspot_share_rise: float = 0.15
    """Rise of the top pad's share over the runner's baseline that counts on its own (with at
    least `hotspot_share_off`). Judgement."""
    hotspot_min_peak_kpa: float = 200.0
    """The hotspot pad must be loaded at least like a forefoot peak in therapeutic terms
    (200 kPa, Diabetes Care 34(7):1595)."""
    hotspot_swing_on_kpa: float = 12.0
    """One forefoot pad that keeps this pressure through swing (window 10th percentile) while
    the foot moves: a tight toe box. ~10.7 kPa (80 mmHg, Lundborg 1983) rounded up."""
    hotspot_swing_other_max_kpa: float = 6.0
    """...while the other forefoot pads do unload below this. Judgement."""
    hotspot_severe_share: float = 0.7
    """Share that escalates to `alert`. Judgement."""

    # --- unrelieved_pressure ---
    unrelieved_floor_on_kpa: float = 27.0
    """The busiest forefoot pad never drops below this within a window while loading cycles
    (elliptical, stair machine). 27 kPa = 200 mmHg, which reduced nerve conduction (brief)."""
    unrelieved_floor_off_kpa: float = 20.0
    """Hold level (hysteresis). Judgement."""
    unrelieved_severe_kpa: float = 53.0
    """Never below 53 kPa (400 mmHg, the top of the conduction range in the brief): `alert`."""

    # --- asymmetry (both feet) ---
    asymmetry_on: float = 0.4
    """Left/right difference of forefoot load over their mean, (L - R) / ((L + R) / 2), in
    windows where both feet load cyclically. Judgement: plantar load asymmetry of healthy
    gait stays well under this; configurable."""
    asymmetry_off: float = 0.3
    """Hold level (hysteresis). Judgement."""
    asymmetry_rise: float = 0.25
    """Rise of the index over the runner's own baseline that counts on its own (with at
    least `asymmetry_off`). Judgement."""
    asymmetry_spared_drop: float = 0.2
    """Windows where a foot peaks at the overload hold level still count for asymmetry when the
    lighter foot carries this share less than its own baseline load: it is being spared (a
    limp), not the heavier foot overloaded. Judgement."""

    # --- sensor_fault ---
    fault_flat_range_kpa: float = 0.05
    """A pad whose window range is below this, away from zero, is stuck: a live FSR always
    shows noise and movement. Judgement."""
    fault_flat_min_kpa: float = 1.0
    """Flat readings at or below this are an unloaded pad (an unloaded FSR reads zero), not a
    stuck one. Judgement."""
    fault_open_max_kpa: float = 0.5
    """A forefoot pad that never exceeds this while another forefoot pad cycles is open
    (disconnected). Judgement."""
    fault_saturation_kpa: float = 1000.0
    """Full scale of a pad after calibration; the hardware must read to at least 700 kPa
    (brief). A pad pinned here is shorted. Configurable per insole."""
    fault_saturated_fraction: float = 0.8
    """Share of a window at full scale that marks a shorted pad. Judgement."""
    fault_min_kpa: float = -20.0
    """Readings below this are implausible (calibration offset bounds). Judgement."""
    fault_max_kpa: float = 1500.0
    """Readings above this are implausible: twice the 730 kPa top of running peaks in the
    brief. Judgement."""
    fault_hold_s: float = 30.0
    """A pad seen faulty is excluded from every other rule for at least this long. Judgement."""
    fault_persist_s: float = 8.0
    """Fault signature time before the fault alert. Judgement."""

    # --- sensor_fault: plausibility (risk/plausibility.py): what no foot can do ---
    fault_swing_load_kpa: float = 150.0
    """A plantar pad reading at least this while every other plantar pad of the foot is about
    unloaded (the foot is in the air) reads load that is not there (moisture, a leak path).
    Judgement: half the 313 kPa forefoot running peak (J Foot Ankle Res, doi
    10.1186/s13047-016-0176-z); no single 13 mm spot carries that alone."""
    fault_swing_unloaded_kpa: float = 20.0
    """'About unloaded' for the other plantar pads: room for an untared floor or a drifted zero
    (see drift_zero_max_kpa). A pad seen leaking stays suspected until its own window minimum
    is this low, which its leak level (hundreds of kPa) cannot be. Judgement."""
    fault_swing_load_fraction: float = 0.25
    """Share of a window's samples in that state that marks the pad: a foot rolling onto one
    pad at touch-down or toe-off does so for tens of ms, not a quarter of a window. Judgement."""
    fault_rise_kpa_per_ms: float = 60.0
    """A sample-to-sample rise faster than this is not a foot loading the pad (a contact
    bounce). Judgement from the physics: a heel-strike impact takes the heel from 0 to its
    ~300-450 kPa peak over ~20-30 ms (brief: 313 kPa forefoot peaks, 304-427 kPa heel peaks at
    3-4.5 m/s), i.e. ~10-20 kPa/ms; 60 kPa/ms is three times that. At 100 Hz it takes a jump of
    600 kPa between two samples."""
    fault_dropout_loaded_kpa: float = 50.0
    """A dropout is a run of zero readings (<= fault_open_max_kpa) on a plantar pad that reads
    at least this just before and just after the run, while another plantar pad is loaded
    this much: the pad unloads and reloads inside one stance. The level is the cyclic-loading
    range (active_forefoot_range_kpa). Judgement."""
    fault_dropout_max_s: float = 0.25
    """Longest zero run counted as a dropout: shorter than a running stance (< ~300 ms,
    brief), so a real swing is never one. Judgement."""
    fault_live_range_kpa: float = 2.0
    """A pad whose window range reaches this while the foot moves is live; a live pad (lace
    pads included) that then reads a flat zero (never above fault_open_max_kpa) while the foot
    moves has gone dead. 2 kPa is the lace resolution the brief asks of the hardware."""

    # --- drift: re-zeroing and gain tracking (risk/drift.py) ---
    drift_swing_fraction: float = 0.2
    """A window is stepping (holds a swing) when every plantar pad that cycles has its 10th
    percentile at most this share of its peak: running and walking go to ~0 in swing; an
    elliptical (~40 of 140 kPa), standing and calf raises never do. Judgement."""
    drift_zero_rate_kpa_per_min: float = 0.5
    """After the first stepping window (which sets each plantar pad's zero to its swing floor:
    the tare an untared insole lacks), the zero follows a lower swing floor at once but a
    higher one by at most this rate, so a slow offset drift is followed while a floor that
    appears within minutes (a tight toe box holding one pad, metatarsal_hotspot) stays seen
    for tens of minutes. Judgement."""
    drift_zero_max_kpa: float = 25.0
    """Largest swing floor taken for a zero. Judgement: below the 27 kPa unrelieved-pressure
    level (brief), so no tare can hide a floor that matters on its own."""
    drift_zero_min_kpa: float = 1.0
    """Zeros smaller than this are left at 0: ADC noise, not an offset (an unloaded FSR reads
    zero; fault_flat_min_kpa). Judgement."""
    drift_gain_block_s: float = 60.0
    """Stepping time averaged per gain update (about 150 strides at 150-180 steps/min, brief);
    the first block is the pads' reference. Judgement."""
    drift_gain_warmup_s: float = 1800.0
    """Stepping time in which the gain may move by drift_gain_rate_per_min: the warm-up of the
    insole, the first half hour (temperature shifts FSR resistance by -15% to +30%, brief).
    Judgement."""
    drift_gain_rate_per_min: float = 0.03
    """Fastest gain change followed during the warm-up: +30% in 10 min. Judgement."""
    drift_gain_per_decade: float = 0.05
    """After the warm-up the gain may move by this much per decade of time (FSR drift is
    < 5% per decade of time under load, brief), so a real rise over a long run stays seen."""
    drift_gain_deadband: float = 0.05
    """The body-fixed total (below) must be off its reference by more than this share before
    a gain moves: per-minute load varies by a few percent at steady effort, and pads repeat
    to +-6% (brief). Judgement."""
    drift_gain_jump: float = 0.10
    """A body-fixed total that moves by more than this share from one block to the next has
    changed for a reason (laces, pace, a shift onto the pads), not drifted: over three times
    the fastest drift followed (drift_gain_rate_per_min). The new level becomes the
    reference and no gain moves. Judgement."""
    drift_gain_max: float = 1.4
    """Largest gain followed (and 1 / this the smallest). Judgement, from the brief's -15% to
    +30% temperature effect on resistance."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("fault_min_kpa",):
                continue
            if not isinstance(value, float | int) or value <= 0:
                raise BadValue(
                    f"risk config {item.name} must be a positive number",
                    expected="a number > 0",
                    got=repr(value),
                    name=item.name,
                )
        if self.persist_s < self.window_s:
            raise BadValue(
                "risk config persist_s must be at least one window",
                expected=f">= window_s ({self.window_s})",
                got=repr(self.persist_s),
                name="persist_s",
            )
