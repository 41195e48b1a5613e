"""Waiting on a condition with a deadline, never on a bare sleep.

``eventually`` (in async tests) and ``wait_until`` (in plain ones) call ``condition`` until it
returns something truthy and return that value; once ``within`` seconds have passed they fail
the test, naming ``what`` was awaited and the last value seen. The condition may be a plain
function or, for ``eventually``, one returning an awaitable::

    task = await eventually(lambda: world.assign(by=1), what="the task back in the queue")
    wait_until(lambda: LEADS in node.stderr, within=10, what="the leader's line")

The condition is checked once more at the deadline, so a slow machine only makes a test
slower, never wrong. A sleep stays in a test only where time passing is the scenario itself
(a clock that must run, a server kept down), with a comment saying so.

``suspended_in(function)`` is a condition for tests of the app served in their own event loop
(tests/world.py): whether some task of the loop, such as a request's handler, is waiting
inside that coroutine function (a long poll that has started waiting, say);
``suspended_count(function)`` says how many are.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, overload

T = TypeVar("T")

#: Default deadline: generous, since a condition met early returns at once.
WITHIN = 30.0


def _failed(what: str, within: float, last: Any) -> AssertionError:
    return AssertionError(f"{what}: not within {within:g} s (last seen: {last!r})")


@overload
async def eventually(condition: Callable[[], Awaitable[T | None]], *, within: float = ...,
                     every: float = ..., what: str = ...) -> T: ...  # fmt: skip
@overload
async def eventually(condition: Callable[[], T | None], *, within: float = ...,
                     every: float = ..., what: str = ...) -> T: ...  # fmt: skip
async def eventually(condition: Callable[[], Any], *, within: float = WITHIN, every: float = 0.01,
                     what: str = "the condition") -> Any:  # fmt: skip
    """The first truthy value of ``condition()``, looked at every ``every`` seconds."""
    deadline = time.monotonic() + within
    while True:
        late = time.monotonic() >= deadline
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if late:
            raise _failed(what, within, value)
        await asyncio.sleep(every)


def wait_until(condition: Callable[[], T | None], *, within: float = WITHIN, every: float = 0.02,
               what: str = "the condition") -> T:  # fmt: skip
    """``eventually`` for code without an event loop: blocks this thread while it waits."""
    deadline = time.monotonic() + within
    while True:
        late = time.monotonic() >= deadline
        if value := condition():
            return value
        if late:
            raise _failed(what, within, value)
        time.sleep(every)


def suspended_in(function: Callable[..., Coroutine[Any, Any, Any]]) -> bool:
    """Whether a task of the running loop is suspended inside a call of ``function``."""
    return suspended_count(function) > 0


def suspended_count(function: Callable[..., Coroutine[Any, Any, Any]]) -> int:
    """How many tasks of the running loop are suspended inside a call of ``function``."""
    code = function.__code__
    found = 0
    for task in asyncio.all_tasks():
        awaited: Any = task.get_coro()
        while awaited is not None:  # down the chain of coroutines each one awaits
            if getattr(awaited, "cr_code", None) is code:
                found += 1
                break
            awaited = getattr(awaited, "cr_await", None)
    return found
