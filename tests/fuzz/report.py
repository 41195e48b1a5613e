"""Counts the fuzz tests keep, printed at the end of the run by ``conftest.py``."""

from __future__ import annotations

from collections import Counter

#: (caller, "METHOD /path") -> requests schemathesis sent.
REQUESTS: Counter[tuple[str, str]] = Counter()
#: what kind of damage -> damaged log files judged (tests/fuzz/test_log_damage.py).
DAMAGED_LOGS: Counter[str] = Counter()
