"""Validation of the product's gait analysis on recordings made by others (../shared/realdata).

For tests and benchmarks only: readers of the validation datasets (`physionet`, `treadmill`),
scoring of detected contacts against reference events (`scoring`), and the per-record
validation rows of the recorded walks (`walking`) and treadmill runs (`running`).
"""
