"""Timeline: an incident's history, replayed from its events."""
