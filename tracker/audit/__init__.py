"""Audit tools: chain verification, replay checks, export, task history, time travel, feed."""
