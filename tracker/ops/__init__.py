"""Operating a tracker: its data directory and lock, backup and restore, health, log format."""
