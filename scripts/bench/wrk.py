"""Run wrk (pinned to the load-generator core) with one of the Lua scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .server import pinned

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "@@BENCH "


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result line."""


def ensure_wrk() -> str:
    """Path of wrk; installs Debian's package when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
    if not found:
        raise WrkError("wrk is not installed (Debian: apt-get install -y wrk)")
    return found


def wrk_version() -> str:
    out = subprocess.run([ensure_wrk(), "-v"], capture_output=True, text=True)
    first = (out.stdout + out.stderr + "\n").splitlines()[0]
    return first.split(" Copyright")[0].strip() or "?"


@dataclass
class WrkResult:
    data: dict[str, Any]
    output: str

    @property
    def seconds(self) -> float:
        return float(self.data["duration_us"]) / 1e6

    @property
    def counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in (self.data.get("counters") or {}).items()}

    @property
    def socket_errors(self) -> int:
        e = self.data.get("errors") or {}
        return sum(int(e.get(k, 0)) for k in ("connect", "read", "write", "timeout"))

    @property
    def status_errors(self) -> int:
        return int((self.data.get("errors") or {}).get("status", 0))

    def latency_ms(self, key: str) -> float:
        return float(self.data["latency_us"][key]) / 1000.0


def run(
    script: str,
    url: str,
    args: list[str],
    *,
    connections: int,
    duration: float,
    threads: int = 1,
    core: int | None = 1,
    timeout_s: float = 10.0,
) -> WrkResult:
    """Run ``wrk --latency`` and return the JSON line printed by common.lua."""
    cmd = pinned(
        [
            ensure_wrk(),
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--latency",
            "--timeout",
            f"{timeout_s:g}s",
            "-s",
            str(LUA_DIR / script),
            url,
            "--",
            *args,
        ],
        core,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    output = proc.stdout + proc.stderr
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return WrkResult(json.loads(line[len(MARKER) :]), output)
    raise WrkError(f"wrk exited {proc.returncode} without a result line:\n{output[-3000:]}")
