"""A run's figures, the bounds they are held to, and the Markdown tables that show them."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from tests.faults.measures import Latency, latency, recovery, stall
from tests.faults.scenarios import Outcome


@dataclass
class Figures:
    outcome: Outcome
    stalls: list[float]  # per node
    recoveries: list[float | None]  # per node
    latencies: list[Latency]  # per node
    lateness: list[tuple[float, float]]  # (deadline, how late) per expiry in the window

    @property
    def latest(self) -> tuple[float, float]:
        """The latest expiry's lateness, and its deadline from the fault's start."""
        deadline, late = max(self.lateness, key=lambda d: d[1], default=(0.0, 0.0))
        return late, deadline - self.outcome.fault.start

    @property
    def others(self) -> list[int]:
        victim = self.outcome.fault.victim
        return [n for n in range(len(self.stalls)) if n != victim]

    def failures(self) -> list[str]:
        """Every bound this run broke, in words (empty: it passed)."""
        out, scenario, found = self.outcome, self.outcome.scenario, []
        found += [f"node-{e.node} exited with status {e.status}: {e.line}" for e in out.exits]
        found += [f"node-{n} exited with status {status} at SIGTERM"
                  for n, status in enumerate(out.statuses) if status != 0]  # fmt: skip
        if scenario.stall_bound is not None:
            found += [f"node-{n} stalled {self.stalls[n]:.1f} s (bound {scenario.stall_bound:g})"
                      for n in self.others if self.stalls[n] > scenario.stall_bound]  # fmt: skip
        found += [f"node-{n} did not write within {scenario.recovery_bound:g} s of the fault's "
                  f"end ({_seconds(r)})" for n, r in enumerate(self.recoveries)
                  if r is None or r > scenario.recovery_bound]  # fmt: skip
        late = self.latest[0]
        if scenario.expiry_bound is not None and late > scenario.expiry_bound:
            found.append(f"an assignment was taken back {_seconds(late)} after its deadline "
                         f"(bound {scenario.expiry_bound:g})")  # fmt: skip
        return found + out.verdict.failures()

    def table(self) -> str:
        """The run as Markdown: a heading, a table per node, and the checks."""
        out, nodes = self.outcome, range(len(self.stalls))
        role = ["victim" if n == out.fault.victim else "other" for n in nodes]
        lat = self.latencies
        rows = [
            ("role", role),
            ("longest stall (s)", [f"{s:.2f}" for s in self.stalls]),
            ("first write after the fault (s)", [_seconds(r) for r in self.recoveries]),
            ("latency p50 / p99 / max (ms)",
             [f"{x.p50 * 1e3:.0f} / {x.p99 * 1e3:.0f} / {x.longest * 1e3:.0f}" for x in lat]),
            ("unanswered / 5xx", [f"{x.unanswered} / {x.refused}" for x in lat]),
        ]  # fmt: skip
        lines = [f"### {out.scenario.name}", "", out.fault.what, "",
                 "| | " + " | ".join(f"node-{n}" for n in nodes) + " |",
                 "|---|" + "---|" * len(self.stalls)]  # fmt: skip
        lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
        lines += ["", *(f"- {check}" for check in self.checks())]
        failures = self.failures()
        lines += ["", "**PASS**" if not failures else "**FAIL**: " + "; ".join(failures), ""]
        return "\n".join(lines)

    def checks(self) -> list[str]:
        out, verdict = self.outcome, self.outcome.verdict
        late, when = self.latest
        exits = ", ".join(f"node-{e.node} {e.status} ({e.line[:160]})" for e in out.exits)
        return [
            f"unexpected exits: {exits or 'none'}; statuses at SIGTERM: {out.statuses}",
            f"assignments taken back by the scheduler: {len(self.lateness)}, the latest "
            f"{_seconds(late)} after its deadline ({when:+.1f} s from the fault's start)",
            f"acknowledged submits: {verdict.acked}, not closed exactly once: "
            f"{len(verdict.not_once)}",
            f"a task held by two workers: {'yes' if verdict.held_twice_in_log else 'no'} in "
            f"the log, {len(verdict.held_twice_seen)} times as seen",
            f"digests equal to a fresh replay at position {verdict.head}: "
            f"{'no: ' + ', '.join(verdict.digests_differ) if verdict.digests_differ else 'yes'}",
        ]

    def summary_row(self) -> str:
        others = [self.stalls[n] for n in self.others] or [0.0]
        known = [r for r in self.recoveries if r is not None]
        recovered = _seconds(max(known)) if len(known) == len(self.recoveries) else "never"
        verdict = "pass" if not self.failures() else "FAIL"
        checks = "yes" if not self.outcome.verdict.failures() else "no"
        late = _seconds(self.latest[0])
        return (f"| {self.outcome.scenario.name} | {max(others):.2f} | {recovered} | "
                f"{len(self.outcome.exits)} | {late} | {checks} | {verdict} |")  # fmt: skip


SUMMARY_HEAD = (
    "| scenario | longest stall, other node (s) | recovery (s) | exits | latest expiry "
    "| log checks | verdict |\n|---|---|---|---|---|---|---|"
)


def measure(outcome: Outcome) -> Figures:
    fault, record = outcome.fault, outcome.load.record
    start, end = fault.start - 1.0, fault.end + outcome.after
    nodes = range(record.nodes)
    offset = time.time() - time.monotonic()  # the log's Unix times to this run's monotonic ones
    return Figures(
        outcome,
        stalls=[stall(record.writes[n], start, end) for n in nodes],
        recoveries=[recovery(record.writes[n], fault.end) for n in nodes],
        latencies=[latency(record, n, start, end) for n in nodes],
        lateness=[
            (deadline - offset, late)
            for deadline, late in outcome.verdict.expiries
            if start <= deadline - offset <= end
        ],  # fmt: skip
    )


def _seconds(value: float | None) -> str:
    if value is None or math.isinf(value):
        return "never"
    return f"{value:.2f} s"
