"""Checkpoints of the read models: a restart loads the newest valid one and replays the tail."""
