"""Every code block of README.md and docs/*.md runs as written, so the docs cannot drift.

Each file runs in a fresh directory of its own, block after block, as a reader would paste
them: ``tracker`` and ``python`` are the venv's, ``HOME`` is that directory, and the tracker
the docs talk to at ``127.0.0.1:3010`` is a fresh ``tracker serve`` on ``./data`` there. The
ports the docs use, 3010 and 3011, stand for free ones: each is replaced in the text before it
runs (and ``tracker serve`` without ``--port`` listens on the one standing for 3010).

- A ``bash``/``sh``/``shell``/``console`` block: one command per line, each must exit 0.
  ``tracker serve`` and ``tracker work`` run in the background, the first until it is ready,
  the second until it works on its project; both are stopped with SIGTERM when the block ends
  and must exit 0. A block that starts ``tracker serve`` itself runs in a new directory with
  free ports of its own (it does not use the shared tracker).
- A transcript (a block whose first line starts with ``$ ``): the commands after ``$ `` run,
  and each line printed below one in the docs must be printed too, in order, numbers standing
  for any number and ``...`` for anything.
- A ``python`` block runs with the venv's python, against the shared tracker.

Any other block needs a mark, an HTML comment on the line before it (invisible to readers):

- ``<!-- docs-test: skip (why) -->``: not run (a systemd unit, an nginx config, a figure);
  the reason is required.
- ``<!-- docs-test: file NAME -->``: the block is the content of NAME, written for the blocks
  after it (a handler script, a settings file).
- ``<!-- docs-test: synopsis -->``: each line names a ``tracker`` command and exactly its
  options, as its parser has them (or some, if the line says ``...``).
- ``<!-- docs-test: postgres -->``: a shell block whose PostgreSQL URLs are replaced by a fresh
  schema on the test server (tests/postgres.py); skipped without one, failed in CI.

A block that is neither runnable nor marked fails the test, as does a mark that does not stand
right before a block; the blocks not run are listed at the end of the run, with their reasons.
Inline code in the prose that starts with ``tracker`` must name a real command and only
options it has.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import markdown, synopsis
from tests.docs.conftest import NOT_RUN
from tests.docs.running import Session
from tests.processes import ROOT, Servers

FILES = markdown.FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_code_block_runs_as_written(path: Path, servers: Servers) -> None:
    session = Session(servers.where, servers)
    try:
        for block in markdown.blocks(path):
            session.run(block)
    finally:
        session.finish()
        NOT_RUN.extend(session.skipped)
    assert not session.failures, "\n\n".join(session.failures)


def test_inline_commands_name_real_commands_and_options() -> None:
    problems = [f"{span.where}: {problem}"
                for path in FILES for span in markdown.spans(path)
                if span.text.startswith("tracker ")
                for problem in synopsis.check(span.text, complete=False)]  # fmt: skip
    assert not problems, "\n".join(problems)
