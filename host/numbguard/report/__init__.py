"""`numbguard report`: a self-contained HTML page with plots of one session."""

from numbguard.report.html import SessionSeries, write_report

__all__ = ["SessionSeries", "write_report"]
