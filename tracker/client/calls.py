"""A call to the tracker as data, and the reading of its answer: no I/O here.

Each route is a function that returns a ``Call`` (method, path, body, who must be
authenticated, whether repeating it is harmless, and how to read the content). The sync and
asyncio clients only move bytes; building requests and reading answers happen once, here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from tracker.client import errors

T = TypeVar("T")


class Auth(enum.Enum):
    NONE = "none"  # session cookies are still sent: some routes show more to managers
    WORKER = "worker"  # X-Worker-Id / X-Secret required
    EITHER = "either"  # worker headers if the client has an identity, else the session


class Envelope(msgspec.Struct):
    ok: bool = False
    message: str = ""
    rate_limit_delay: float = 0.0
    content: msgspec.Raw = msgspec.Raw(b"null")


_envelope = msgspec.json.Decoder(Envelope)
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Answer:
    status: int
    envelope: Envelope

    def content(self, kind: type[T]) -> T:
        return _decode(self.envelope.content, kind)


def _nothing(answer: Answer) -> None:
    return None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request. ``idempotent``: repeating it after a lost answer changes nothing more."""

    method: str
    path: str
    read: Callable[[Answer], T]
    body: bytes | None = None
    auth: Auth = Auth.NONE
    idempotent: bool = False
    accept: Callable[[Answer], bool] = field(default=lambda answer: answer.envelope.ok)


def get(path: str, read: Callable[[Answer], T], *, auth: Auth = Auth.NONE) -> Call[T]:
    """A GET that only reads (``/task/get`` is not one: it assigns)."""
    return Call("GET", path, read, auth=auth, idempotent=True)


def post(
    path: str,
    body: Any,
    read: Callable[[Answer], T] = _nothing,  # type: ignore[assignment]
    *,
    auth: Auth = Auth.NONE,
    idempotent: bool = False,
) -> Call[T]:
    encoded = None if body is None else _encoder.encode(body)
    return Call("POST", path, read, body=encoded, auth=auth, idempotent=idempotent)


def field_of(key: str, kind: type[T]) -> Callable[[Answer], T]:
    """Read ``content[key]`` as ``kind``."""

    def read(answer: Answer) -> T:
        return _decode(answer.envelope.content, dict[str, kind])[key]  # type: ignore[valid-type]

    return read


def content_as(kind: type[T]) -> Callable[[Answer], T]:
    return lambda answer: answer.content(kind)


def answer_of(status: int, body: bytes) -> Answer:
    """Parse an answer's bytes (204 and empty bodies are a bare ``ok``)."""
    if status == 204 or (not body and status < 300):
        return Answer(status, Envelope(ok=True))
    try:
        return Answer(status, _envelope.decode(body))
    except msgspec.DecodeError:
        snippet = body[:200].decode("utf-8", "replace")
        raise errors.ProtocolError(f"{status}: not a tracker answer: {snippet!r}") from None


def result(call: Call[T], answer: Answer) -> T:
    """What the call returns, or the ``ServerError`` the answer stands for."""
    envelope = answer.envelope
    if answer.status >= 300 or not call.accept(answer):
        content = None if envelope.content == b"null" else msgspec.json.decode(envelope.content)
        raise errors.from_answer(
            answer.status, envelope.message, content, envelope.rate_limit_delay
        )
    return call.read(answer)


def _decode(raw: msgspec.Raw, kind: Any) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise errors.ProtocolError(f"unexpected content: {exc}") from None
