"""The ``{ok, message, rate_limit_delay, content}`` envelope, encoded once and fast."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

JSON = "application/json"


class Envelope(msgspec.Struct, omit_defaults=True):
    ok: bool
    message: str = ""
    rate_limit_delay: float = 0.0
    content: Any = msgspec.UNSET


_encoder = msgspec.json.Encoder()

OK_BODY = _encoder.encode(Envelope(True))


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


_HEADERS = {"Content-Type": JSON, "Server": "task_tracker"}


def respond(body: bytes, status: int = 200) -> web.Response:
    # Headers given whole: cheaper than aiohttp's content_type setter on the hot path.
    return web.Response(body=body, status=status, headers=_HEADERS)


def ok(content: Any = msgspec.UNSET, message: str = "") -> web.Response:
    if content is msgspec.UNSET and not message:
        return respond(OK_BODY)
    return respond(_encoder.encode(Envelope(True, message, content=content)))


def fail(
    status: int, message: str, delay: float = 0.0, content: Any = msgspec.UNSET
) -> web.Response:
    return respond(_encoder.encode(Envelope(False, message, delay, content)), status)


def no_content() -> web.Response:
    return web.Response(status=204)
