"""One Markdown file's code blocks run as a reader runs them: in order, in one fresh working
directory, with the venv's ``tracker`` and ``python`` first on ``PATH`` and ``HOME`` there too.

How each block runs is in tests/docs/test_docs.py's docstring. What a block does wrong (a
status other than 0, output unlike the documented output, a bad option) is collected as one
message naming the file, the line and what was printed; the run goes on with the next block.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import postgres
from tests.docs import shell, synopsis
from tests.docs.markdown import Block
from tests.processes import Server, Servers, environment

SHELLS = {"bash", "sh", "shell", "console"}
PORT = re.compile(r"(?<![\w.-])(3010|3011)(?![\w.])")  # the ports the docs use
DSN = re.compile(r"postgresql://[^\s'\"]+")  # a PostgreSQL URL in the docs
WITHIN = 120  # seconds a command may take


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


@dataclass
class Session:
    """The run of one Markdown file."""

    workdir: Path
    servers: Servers
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # written by `file` marks
    shared: Server | None = None  # the tracker at 127.0.0.1:3010, started when first needed

    def run(self, block: Block) -> None:
        mark, _, argument = block.mark.partition(" ")
        if mark == "skip":
            if not re.fullmatch(r"\(.+\)", argument):
                self.fail(block, "`skip` needs a reason: <!-- docs-test: skip (why) -->")
            self.skipped.append(f"{block.where} {argument}")
        elif mark == "file":
            (self.workdir / argument).write_text(block.text)
            self.files.append(argument)
        elif mark == "synopsis":
            lines = synopsis.lines(block.text)
            for problem in (p for line in lines for p in synopsis.check(line, complete=True)):
                self.fail(block, problem)
        elif mark == "postgres":
            self.with_postgres(block)
        elif mark:
            self.fail(block, f"unknown docs-test mark {block.mark!r}")
        elif block.lang in SHELLS or (not block.lang and shell.is_transcript(block.text)):
            self.run_shell(block, block.text)
        elif block.lang == "python":
            self.run_python(block)
        else:
            self.fail(block, f"no way to run a {block.kind} block; mark it (tests/docs/"
                             "test_docs.py), e.g. <!-- docs-test: skip (why) -->")  # fmt: skip

    def fail(self, block: Block, problem: str, offset: int | None = None) -> None:
        where = block.where if offset is None else f"{block.where} (line {block.line_of(offset)})"
        self.failures.append(f"{where}, {block.kind}: {problem}")

    # --- the tracker the docs talk to -----------------------------------------------------

    def tracker_port(self) -> int:
        """The port of a fresh tracker serving ``./data`` as ``tracker serve`` does."""
        if self.shared is None:
            self.shared = self.servers.new("data").start()
        return self.shared.port

    def environment(self, port: int) -> dict[str, str]:
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        path = f"{Path(sys.executable).parent}:{environment()['PATH']}"
        return {"HOME": str(home), "PATH": path, "TRACKER_SERVER_ADDRESS": f"127.0.0.1:{port}"}

    # --- the kinds of block ---------------------------------------------------------------

    def with_postgres(self, block: Block) -> None:
        """The block with each PostgreSQL URL replaced by a fresh schema on the test server."""
        try:
            asyncio.run(postgres.require_server())
        except pytest.skip.Exception as skipped:  # in CI, require_server fails instead
            self.skipped.append(f"{block.where} ({skipped})")
            return
        dsns: dict[str, str] = {}
        text = DSN.sub(lambda m: dsns.setdefault(m[0], postgres.new_dsn()), block.text)
        self.run_shell(block, text)

    def run_python(self, block: Block) -> None:
        port = self.tracker_port()
        script = self.workdir / f"block-{block.line}.py"
        script.write_text(PORT.sub(str(port), block.text))
        done = subprocess.run([sys.executable, script.name], cwd=self.workdir, text=True,
                              env=environment(**self.environment(port)), capture_output=True,
                              timeout=WITHIN)  # fmt: skip
        if done.returncode != 0:
            self.fail(block, f"exited with status {done.returncode}:\n{tail(done.stderr)}")

    def run_shell(self, block: Block, text: str) -> None:
        """Each command in turn; ``tracker serve`` and ``tracker work`` in the background until
        the block ends. A block that serves gets a directory and free ports of its own."""
        serves = any(c.argv()[:2] == ["tracker", "serve"] for c in shell.commands(text))
        if serves:
            ports = {"3010": free_port(), "3011": free_port()}
            cwd = self.workdir / f"block-{block.line}"
            cwd.mkdir()
            for name in self.files:  # the files the docs made so far, there too
                shutil.copy2(self.workdir / name, cwd / name)
        else:
            ports = {"3010": self.tracker_port()}
            cwd = self.workdir
        text = PORT.sub(lambda m: str(ports.get(m[0], m[0])), text)
        env = self.environment(ports["3010"])
        with self.background(block) as started:
            for command in shell.commands(text):
                if command.long_running:
                    if not self.start(block, command, cwd, env, started):
                        return
                elif not self.run_command(block, command, cwd, env):
                    return

    def run_command(self, block: Block, command: shell.Command, cwd: Path,
                    env: dict[str, str]) -> bool:  # fmt: skip
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.text], cwd=cwd,
                              env=environment(**env), text=True, capture_output=True,
                              timeout=WITHIN)  # fmt: skip
        printed = done.stdout + done.stderr
        if done.returncode != 0:
            self.fail(block, f"`{command.text}` exited with status {done.returncode}:\n"
                             f"{tail(printed)}", command.offset)  # fmt: skip
            return False
        if missing := shell.missing_output(command.output, printed):
            self.fail(block, f"`{command.text}` did not print {missing[0]!r}; it printed:\n"
                             f"{tail(printed)}", command.offset)  # fmt: skip
        return True

    def start(self, block: Block, command: shell.Command, cwd: Path, env: dict[str, str],
              started: list[tuple[shell.Command, Server]]) -> bool:  # fmt: skip
        """Start a long-running command: ready (a server) or at work (a worker)."""
        if not command.simple:
            self.fail(block, f"`{command.text}`: a long-running command must be a simple "
                             "one (no pipes, redirections...)", command.offset)  # fmt: skip
            return False
        name = f"line-{block.line_of(command.offset)}"
        process = Server(cwd / name, argv=command.argv(), env={**env, **command.assignments()},
                         name=name)  # fmt: skip
        started.append((command, process))
        try:
            if command.argv()[1] == "serve":
                process.start()
            else:
                process.launch().wait_for_line(" on project ")
        except AssertionError as exc:
            self.fail(block, f"`{command.text}` did not start: {exc}", command.offset)
            return False
        return True

    @contextmanager
    def background(self, block: Block) -> Iterator[list[tuple[shell.Command, Server]]]:
        """Long-running commands started in the block, stopped at its end (last first): each
        must exit 0 on SIGTERM, as a supervisor expects."""
        started: list[tuple[shell.Command, Server]] = []
        try:
            yield started
        finally:
            for command, process in reversed(started):
                ended = "before the block did" if not process.running() else "on SIGTERM"
                status = process.stop()
                if status != 0 and not any(block.where in f for f in self.failures):
                    self.fail(block, f"`{command.text}` exited with status {status} {ended}:"
                                     f"\n{tail(process.stderr)}", command.offset)  # fmt: skip

    def finish(self) -> None:
        """Stop the shared tracker: it too must stop cleanly."""
        if self.shared is not None and (status := self.shared.stop()) != 0:
            self.failures.append(f"the tracker the blocks used exited with status {status}:\n"
                                 f"{tail(self.shared.stderr)}")  # fmt: skip
