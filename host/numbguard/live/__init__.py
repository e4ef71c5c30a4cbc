"""What a runner sees and hears during a session: the terminal view, alert sounds, JSON events."""
