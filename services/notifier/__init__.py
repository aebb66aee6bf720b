"""Notices to people: rendering them as messages and sending them through each channel."""
