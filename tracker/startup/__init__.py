"""Start-up: the log the settings name, the read models rebuilt from it (the newest usable
checkpoint, then the rest of the log replayed with each row checked), and the task history
index derived from it beside them."""
