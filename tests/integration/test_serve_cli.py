"""``tracker serve`` as a user runs it: a port already taken is a clear error, not a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.processes import run


def test_a_port_in_use_is_refused_with_a_message_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--host", "127.0.0.1", "--port", str(port),
                   "--data-dir", str(tmp_path / "data"))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"tracker: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
