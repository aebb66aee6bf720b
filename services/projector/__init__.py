"""Projector: folds events into the key-value read models behind list queries."""
