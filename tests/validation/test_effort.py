"""The per-contact load measures of the treadmill runs and the fits of the effort table."""

from __future__ import annotations

import numpy as np
import pytest

from numbguard_lab.validation.effort import fit, trial_load, within_groups_fit
from numbguard_lab.validation.treadmill import FORCE_RATE_HZ, TreadmillTrial

CONTACT_S = 0.25
STEP_S = 0.35


def rearfoot_run(impact_bw: float, active_bw: float, n: int = 10) -> np.ndarray:
    """Contacts with an impact hump at 10% of stance and an active peak at 45%, then flight."""
    t_s = np.arange(round(n * STEP_S * FORCE_RATE_HZ) + 100) / FORCE_RATE_HZ
    force = np.zeros_like(t_s)
    for k in range(n):
        phase = (t_s - 0.05 - k * STEP_S) / CONTACT_S
        inside = (phase >= 0) & (phase <= 1)
        active = active_bw * np.sin(np.pi * phase)
        impact = impact_bw * np.exp(-(((phase - 0.1) / 0.04) ** 2))
        force[inside] = np.maximum(active, impact)[inside]
    return force


def test_early_and_late_peaks_loading_rate_contact_time_and_cadence() -> None:
    force = rearfoot_run(impact_bw=1.6, active_bw=2.4)
    load = trial_load(TreadmillTrial(0, 3.33, 0.0, 70.0, 100.0, 0.0, 0.0, force))
    assert load.n_contacts == 10
    assert load.early_peak_bw == pytest.approx(1.6, abs=0.02)
    assert load.late_peak_bw == pytest.approx(2.4, abs=0.01)
    assert load.peak_bw == pytest.approx(2.4, abs=0.01)
    assert load.cadence_spm == pytest.approx(60 / STEP_S, rel=1e-3)
    assert load.contact_s == pytest.approx(CONTACT_S, abs=0.01)  # less the 50 N edges
    # 20% to 80% of the impact on the hump's rising side: 1.0 BW over 0.0212 s of phase.
    rise_s = 0.04 * CONTACT_S * (np.sqrt(np.log(1 / 0.2)) - np.sqrt(np.log(1 / 0.8)))
    assert load.loading_rate_bw_s == pytest.approx(0.6 * 1.6 / rise_s, rel=0.1)


def test_a_fit_inside_groups_ignores_what_differs_between_them() -> None:
    # Two slopes: the same relation (2 per unit of x) inside each, 10 lower on the second.
    groups = [([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]), ([3.5, 4.5], [-3.0, -1.0])]
    inside = within_groups_fit(groups)
    assert inside.slope == pytest.approx(2.0) and inside.r == pytest.approx(1.0)
    across = fit([1.0, 2.0, 3.0, 3.5, 4.5], [2.0, 4.0, 6.0, -3.0, -1.0])
    assert abs(across.slope - 2.0) > 0.5
    assert fit([0.0, 1.0], [10.0, 11.0]).relative_slope(0.0) == pytest.approx(0.1)
