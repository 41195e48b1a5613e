"""Lists the documented blocks the docs test did not run, and why, at the end of the run."""

from __future__ import annotations

import pytest

NOT_RUN: list[str] = []  # "file:line (reason)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if NOT_RUN:
        terminalreporter.section("documented blocks not run (docs-test marks)")
        for line in NOT_RUN:
            terminalreporter.write_line(line)
