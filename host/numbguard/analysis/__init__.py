"""The analysis pipeline: calibrated pad pressures in, contacts, per-step metrics and alerts out."""
