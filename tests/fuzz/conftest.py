"""Prints what the fuzz tests tried: requests per route, and damaged logs judged."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fuzz.report import DAMAGED_LOGS, REQUESTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    write = terminalreporter.write_line
    if REQUESTS:
        per_route: Counter[str] = Counter()
        for (_, route), count in REQUESTS.items():
            per_route[route] += count
        callers = sorted({caller for caller, _ in REQUESTS})
        terminalreporter.section("schemathesis: requests tried per route")
        for route, count in sorted(per_route.items(), key=lambda item: item[0].split(" ")[::-1]):
            write(f"{count:6d}  {route}")
        failed = len(terminalreporter.stats.get("failed", []))
        write(f"{sum(per_route.values())} requests over {len(per_route)} routes as "
              f"{', '.join(callers)}; failed tests: {failed}")  # fmt: skip
    if DAMAGED_LOGS:
        terminalreporter.section("damaged log files judged")
        for kind, count in sorted(DAMAGED_LOGS.items()):
            write(f"{count:6d}  {kind}")
        write(f"{sum(DAMAGED_LOGS.values())} damaged logs tried")
