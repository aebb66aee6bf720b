"""The engine: playbook runs and the task state machine."""
