"""PostgreSQL for tests: the real server, one fresh schema per test.

The server is ``TESTS_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust auth). Without one, the tests that need it are skipped with the reason, except in CI
(env ``CI`` set), where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

SERVER = os.environ.get("TESTS_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def require_server() -> None:
    """Skip (fail in CI) unless PostgreSQL answers at :data:`SERVER`."""
    try:
        conn = await asyncpg.connect(SERVER, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {SERVER} ({exc!r}); set TESTS_POSTGRES"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} — CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(reason)
    await conn.close()


def with_schema(schema: str) -> str:
    separator = "&" if "?" in SERVER else "?"
    return f"{SERVER}{separator}search_path={schema}"


async def drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


#: Schemas made for tests, dropped when the session ends (``drop_all``): not at each test's
#: teardown, which can run before the app under test has closed (aiohttp_client is set up
#: first, so it is torn down last) and would pull the log from under its last checkpoint.
CREATED: list[str] = []


def new_dsn() -> str:
    """A DSN whose ``search_path`` names a schema no other test uses (dropped at the end)."""
    schema = f"test_{secrets.token_hex(6)}"
    CREATED.append(schema)
    return with_schema(schema)


async def fresh_dsn() -> AsyncIterator[str]:
    """``new_dsn``, once the server is known to answer (else skipped, or failed in CI)."""
    await require_server()
    yield new_dsn()


def drop_all() -> None:
    async def drop() -> None:
        for schema in CREATED:
            await drop_schema(schema)

    if CREATED:
        asyncio.run(drop())
        CREATED.clear()
