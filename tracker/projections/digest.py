"""Digests of the read models: one per model, one per attribute, and one per key on demand.

A digest is BLAKE2b over the model's snapshot image (:mod:`tracker.projections.snapshot`):
each attribute's node (its inferred types included) followed by its big containers in
chunks. So it covers every value and the order of every dict, list and queue: two states
with the same digest hold the same entries in the same order. It needs no code per model,
so read models added later are covered as they are.

Attributes that a model lists in ``DIGEST_SKIP`` are left out: caches whose content depends
on when queries ran, not only on the log (the deadline heap, which queries pop lazily, is
one). They are still checkpointed.

Key digests (16 bytes) name what differs: every attribute holding a dict gets one per key,
written as the key's JSON text; other attributes get one under the key ``""``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from tracker.projections import snapshot

Digests = dict[str, dict[str, str]]  # model -> attribute -> hex digest ("" = the model)
KeyDigests = dict[str, dict[str, dict[str, str]]]  # model -> attribute -> key -> hex digest
Hashing = Callable[[Any, bytes], None]  # (hasher, data) -> None: hasher.update(data), somewhere

_json = msgspec.json.Encoder()
KEY_BYTES = 300  # memory one key digest costs, about: its key's text, its hex digest, a dict
# slot, and its share of the JSON answer (tests/unit/test_budgets.py measures it)


def skipped(model: Any) -> tuple[str, ...]:
    return tuple(getattr(type(model), "DIGEST_SKIP", ()))


def digested_attributes(model: Any) -> list[tuple[str, Any]]:
    if isinstance(model, dict | list | set):
        return [("*", model)]
    skip = skipped(model)
    return [(name, value) for name, value in snapshot.attributes(model) if name not in skip]


def image(value: Any, where: str) -> Iterator[bytes]:
    """The bytes a value's digest covers: its node, then its big containers in chunks."""
    plan = snapshot.Plan()
    yield snapshot.encode(plan.node(value, where))
    for container, kind, _ in plan.blobs:
        yield from snapshot.chunks(container, kind)


def _update(hasher: Any, data: bytes) -> None:
    hasher.update(data)


def state_digests(state: Any, hashing: Hashing = _update) -> tuple[Digests, list[Any]]:
    """Hashers for every model and attribute of ``state``, fed through ``hashing``.

    Returns the structure with hasher objects; call :func:`finish` once ``hashing`` is done.
    Everything is encoded before this returns, so the digests describe one moment.
    """
    result: dict[str, dict[str, Any]] = {}
    hashers: list[Any] = []
    for name, model in snapshot.models(state):
        whole = hashlib.blake2b(digest_size=32)
        parts: dict[str, Any] = {"": whole}
        for attribute, value in digested_attributes(model):
            part = hashlib.blake2b(digest_size=32)
            for data in image(value, f"{name}.{attribute}"):
                hashing(part, data)
                hashing(whole, data)
            parts[attribute] = part
            hashers.append(part)
        hashers.append(whole)
        result[name] = parts
    return result, hashers  # type: ignore[return-value]


def finish(digests: dict[str, dict[str, Any]]) -> Digests:
    return {model: {k: h.hexdigest() for k, h in parts.items()} for model, parts in digests.items()}


def compute(state: Any) -> Digests:
    """Every model's and attribute's digest, computed here and now."""
    digests, _ = state_digests(state)
    return finish(digests)  # type: ignore[arg-type]


def key_text(key: Any) -> str:
    return _json.encode(key).decode()


def _entry_digest(key: Any, value: Any, where: str) -> str:
    hasher = hashlib.blake2b(snapshot.encode(key), digest_size=16)
    if type(value) in (int, float, str, bytes, bool) or isinstance(value, msgspec.Struct):
        hasher.update(snapshot.encode(value))
    else:
        for data in image(value, where):
            hasher.update(data)
    return hasher.hexdigest()


def key_count(state: Any, names: Iterable[str]) -> int:
    """How many key digests :func:`key_digests` of the named models would hold."""
    wanted = set(names)
    return sum(len(value) if isinstance(value, dict) else 1
               for name, model in snapshot.models(state) if name in wanted
               for _, value in digested_attributes(model))  # fmt: skip


def key_digests(state: Any, names: Iterable[str]) -> KeyDigests:
    """Per-key digests of the named models (a Python loop per entry: for finding differences)."""
    wanted = set(names)
    found: KeyDigests = {}
    for name, model in snapshot.models(state):
        if name not in wanted:
            continue
        found[name] = {}
        for attribute, value in digested_attributes(model):
            where = f"{name}.{attribute}"
            if isinstance(value, dict):
                entries = {key_text(k): _entry_digest(k, v, where) for k, v in value.items()}
            else:
                entries = {"": _entry_digest(attribute, value, where)}
            found[name][attribute] = entries
    return found
