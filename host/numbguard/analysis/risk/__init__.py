"""Numbness-risk rules: one module per rule, the shared window statistics and alert logic.

`FootRiskEngine` runs them all on one foot's pressure chunks; `RiskConfig` holds every
threshold. See docs/risk-model.md for the sources of each number.
"""

from numbguard.analysis.risk.alerting import is_clearing
from numbguard.analysis.risk.config import RiskConfig
from numbguard.analysis.risk.engine import FootRiskEngine, assessable_kinds

__all__ = ["FootRiskEngine", "RiskConfig", "assessable_kinds", "is_clearing"]
