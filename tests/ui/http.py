"""Reading and sending UI pages as a test's caller: a page's text, a request answered as it
comes (no redirect followed), the CSRF token a form carries."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse

from tests.world import Caller


def token_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def page(caller: Caller, path: str, status: int = 200) -> str:
    answer = await caller.get(path)
    text = str(answer.body)
    assert answer.status == status, (path, answer.status, text[:300])
    return text


async def send(caller: Caller, method: str, path: str, *, cookies: str = "",
               **options: Any) -> ClientResponse:  # fmt: skip
    """A request as ``caller``, answered as it comes (no redirect followed): what the test
    reads is the status, the Location and the cookies. ``cookies`` are the browser's own (its
    CSRF binding, the snackbar), which the world's client does not keep for it."""
    headers = {**caller.headers(), **options.pop("headers", {})}
    if cookies:
        headers["Cookie"] = "; ".join(filter(None, (headers.get("Cookie"), cookies)))
    return await caller.world.client.request(
        method, path, headers=headers, allow_redirects=False, **options
    )
