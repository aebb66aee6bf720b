"""What every service shares: settings, logging, broker and stream set-up, the event store."""
