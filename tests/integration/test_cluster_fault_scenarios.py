"""Two nodes under load ride out faults: a frozen writer, a frozen leader, lost sessions, a
PostgreSQL restart (tests/faults/: the harness; scripts/cluster_faults.py runs every scenario).

Each test is one scenario of ``tests.faults.scenarios.IN_CI`` on a PostgreSQL server of the
module's own (never the shared one: it is restarted and its sessions terminated): the other
node stalls at most a few seconds, no node exits, every node writes again soon after the
fault, every acknowledged submit is closed exactly once, no task is held by two workers, and
every node's digests equal a fresh replay. About a minute each; ``-m 'not faults'`` leaves
them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.faults.postgres_server import OwnPostgres
from tests.faults.report import measure
from tests.faults.scenarios import IN_CI, SCENARIOS, run
from tests.processes import Servers

pytestmark = [pytest.mark.slow, pytest.mark.faults]


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of this module's own (skipped without its binaries, failed in CI)."""
    try:
        server = OwnPostgres.create()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the fault scenarios", pytrace=False)
        pytest.skip(str(missing))
    yield server
    server.destroy()


@pytest.mark.parametrize("name", IN_CI)
async def test_the_cluster_rides_out_the_fault_and_loses_nothing(
    name: str, servers: Servers, own_postgres: OwnPostgres
) -> None:
    figures = measure(await run(SCENARIOS[name], servers, own_postgres))
    assert not figures.failures(), figures.table()
