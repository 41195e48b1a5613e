"""What a client remembers between calls: the worker identity, cookies, and the retry policy."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from tracker.client import calls, errors


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker's id and secret (the secret is never shown by ``repr``)."""

    id: int
    secret: str

    def __repr__(self) -> str:
        return f"WorkerIdentity(id={self.id}, secret='…')"


@dataclass(frozen=True)
class Backoff:
    """Retries after connection errors: ``attempts`` in all, exponential delays with jitter."""

    attempts: int = 6
    first: float = 0.1
    factor: float = 2.0
    cap: float = 5.0

    def delays(self) -> Iterator[float]:
        """The pause before each retry (``attempts - 1`` of them)."""
        delay = self.first
        for _ in range(self.attempts - 1):
            yield delay * random.uniform(0.5, 1.0)
            delay = min(self.cap, delay * self.factor)


def may_retry(call: calls.Call[Any], error: errors.TransportError) -> bool:
    """A request that never left may always be sent again; one that did, only if idempotent."""
    return isinstance(error, errors.ConnectFailed) or call.idempotent


def not_serving_yet(status: int, retry_after: str | None) -> bool:
    """A 503 with ``Retry-After`` is a tracker still starting (replaying its log): it refused
    the request before doing anything, so the request counts as never sent."""
    return status == 503 and retry_after is not None


class Cookies:
    """The cookies the server set (the manager session), sent back on every call."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def update(self, set_cookie_headers: list[str]) -> None:
        for header in set_cookie_headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self._values.pop(name, None)
                else:
                    self._values[name] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self._values.items())

    def clear(self) -> None:
        self._values.clear()


def headers(call: calls.Call[Any], worker: WorkerIdentity | None, cookies: Cookies) -> dict:
    """The request headers a call needs."""
    out = {"Content-Type": "application/json"} if call.body is not None else {}
    if call.auth is not calls.Auth.NONE and worker is not None:
        out["X-Worker-Id"] = str(worker.id)
        out["X-Secret"] = worker.secret
    elif call.auth is calls.Auth.WORKER:
        raise errors.UsageError(f"{call.path} needs a worker identity (client.worker = ...)")
    if cookie := cookies.header():
        out["Cookie"] = cookie
    return out
