"""Routes as methods of both clients, written once.

``Endpoint(build)`` turns a function returning a ``Call[T]`` into a method: on a ``SyncCaller``
it returns ``T``, on an ``AsyncCaller`` an awaitable of ``T`` (the overloads tell the type
checker which).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from tracker.client.calls import Call

P = ParamSpec("P")
T = TypeVar("T")


class SyncCaller:
    def call(self, call: Call[T]) -> T:
        raise NotImplementedError


class AsyncCaller:
    async def call(self, call: Call[T]) -> T:
        raise NotImplementedError


class Endpoint(Generic[P, T]):
    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build

    @overload
    def __get__(self, obj: None, owner: type) -> Endpoint[P, T]: ...
    @overload
    def __get__(self, obj: AsyncCaller, owner: type) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: SyncCaller, owner: type) -> Callable[P, T]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return obj.call(build(*args, **kwargs))

        return method
