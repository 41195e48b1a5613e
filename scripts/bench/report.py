"""Machine facts, medians, the printed table and the JSON results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .measures import Measure, Result
from .wrk import wrk_version


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        )
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(
    server_core: int | None, client_core: int | None, command: list[str], env: dict[str, str]
) -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version(),
        "server_core": server_core,
        "client_core": client_core,
        "server_command": command,
        "server_env": env,
        "git_commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def summarize(measure: Measure, runs: list[Result | str]) -> dict[str, Any]:
    values = [r.value for r in runs if isinstance(r, Result)]
    others = [
        r.details["core_other_share"]
        for r in runs
        if isinstance(r, Result) and r.details.get("core_other_share") is not None
    ]
    med = statistics.median(values) if values else None
    return {
        "unit": measure.unit,
        "target": measure.target,
        "higher_is_better": measure.higher_is_better,
        "median": med,
        "values": values,
        "passes": bool(med is not None and measure.passes(med)),
        "errors": sum(r.errors for r in runs if isinstance(r, Result)),
        "core_other_share_max": max(others) if others else None,
        "checks": [r.check if isinstance(r, Result) else "failed" for r in runs],
        "failures": [r for r in runs if isinstance(r, str)],
        "runs": [r.__dict__ if isinstance(r, Result) else {"failure": r} for r in runs],
    }


def check_word(checks: list[str]) -> str:
    """ok, unverif (a read route is missing on the server) or BAD."""
    if any(c != "ok" and not c.startswith("unverified") for c in checks):
        return "BAD"
    return "ok" if all(c == "ok" for c in checks) else "unverif"


def table(info: dict[str, Any], summaries: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"machine: {info['nproc']} cpus, {info['cpu']}; python {info['python']}; "
        f"{info['wrk']}; server on core {info['server_core']}, wrk on core "
        f"{info['client_core']}; commit {info['git_commit']}",
        *([f"server env: {info['server_env']}"] if info.get("server_env") else []),
        "other = the largest share of the server's core used by anything but the server"
        " during a wrk run (noise)",
        "",
        f"{'measurement':<11} {'median':>12} {'unit':<10} {'target':>10}  {'':<4} "
        f"{'errors':>6}  {'check':<7} {'other':>5}  runs",
    ]
    for name, s in summaries.items():
        sign = ">=" if s["higher_is_better"] else "<="
        verdict = "PASS" if s["passes"] else "FAIL"
        checks = check_word(s["checks"])
        share = s["core_other_share_max"]
        other = "-" if share is None else f"{share:.0%}"
        runs = ", ".join(fmt(v) for v in s["values"]) or "-"
        if s["failures"]:
            runs += f" ({len(s['failures'])} failed)"
        lines.append(
            f"{name:<11} {fmt(s['median']):>12} {s['unit']:<10} {sign + fmt(s['target']):>10}  "
            f"{verdict:<4} {s['errors']:>6}  {checks:<7} {other:>5}  {runs}"
        )
    return "\n".join(lines)


def details(summaries: dict[str, dict[str, Any]]) -> str:
    out = []
    for name, s in summaries.items():
        for i, run in enumerate(s["runs"], 1):
            if "failure" in run:
                out.append(f"{name} run {i}: FAILED {run['failure']}")
                continue
            d = {k: v for k, v in run["details"].items() if k != "counters"}
            check = "" if run["check"] == "ok" else f" check: {run['check']};"
            out.append(f"{name} run {i}:{check} " + ", ".join(f"{k}={v}" for k, v in d.items()))
    return "\n".join(out)


def write_json(
    path: Path, info: dict[str, Any], args: dict[str, Any], summaries: dict[str, dict[str, Any]]
) -> None:
    doc = {"machine": info, "args": args, "results": summaries}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"results written to {path}", file=sys.stderr)
