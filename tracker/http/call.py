"""``Call``: what the worker task routes read of a request, whichever server parsed it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aiohttp import web


class Headers(Protocol):
    def get(self, key: str, default: str, /) -> str: ...

    def __contains__(self, key: object, /) -> bool: ...


class Call(Protocol):
    """What the worker task routes read of a request. aiohttp's ``web.Request`` has it, and so
    does the worker lane's ``LaneRequest`` (``tracker.http.lane``): one handler serves both."""

    @property
    def app(self) -> web.Application: ...

    @property
    def headers(self) -> Headers: ...

    @property
    def match_info(self) -> Mapping[str, str]: ...

    @property
    def query(self) -> Mapping[str, str]: ...

    @property
    def client_max_size(self) -> int: ...

    async def read(self) -> bytes: ...
