"""numbguard host: receives insole frames, finds steps, and warns about numbness-risk patterns."""

__version__ = "0.1.0"
