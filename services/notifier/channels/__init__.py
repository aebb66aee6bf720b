"""Senders, one a channel. Each returns a `Delivery` saying what came of it and never raises for
a failed delivery; its `target` is safe to log."""
