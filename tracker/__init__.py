"""tracker: an event-sourced task tracker, wire-compatible with task_tracker."""

__version__ = "0.1.0"

#: Name and version reported by ``GET /``. Clients of the original check these.
API_NAME = "task_tracker"
API_VERSION = "1.1"
