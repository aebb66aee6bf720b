"""Contracts shared by every Pathways service: commands, events, subjects, playbooks, rosters."""
