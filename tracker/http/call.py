"""``Call``: what the handlers read of a request, whichever server parsed it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from aiohttp import web

T = TypeVar("T")


class Headers(Protocol):
    def get(self, key: str, default: str, /) -> str: ...

    def __contains__(self, key: object, /) -> bool: ...


class Call(Protocol):
    """What the worker task routes read of a request. aiohttp's ``web.Request`` has it, and so
    does the worker lane's ``LaneRequest`` (``tracker.http.lane``): one handler serves both.
    Values the middleware attaches (the caller) are items under ``web.RequestKey``s."""

    @property
    def app(self) -> web.Application: ...

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def headers(self) -> Headers: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    @property
    def match_info(self) -> Mapping[str, str]: ...

    @property
    def query(self) -> Mapping[str, str]: ...

    @property
    def client_max_size(self) -> int: ...

    def __getitem__(self, key: web.RequestKey[T], /) -> T: ...

    def __setitem__(self, key: web.RequestKey[T], value: T, /) -> None: ...

    async def read(self) -> bytes: ...
