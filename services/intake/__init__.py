"""Intake: logging incidents, and reading them back."""
