"""A generic, typed msgpack image of the read models, for checkpoints and digests.

No read model needs code of its own to be checkpointed or digested: the walker takes every
public model attribute of :class:`~tracker.projections.state.State` and every attribute of
those (``__dict__`` and ``__slots__``), and describes each value as a *node*:

- a **leaf**: a value msgspec can encode and decode by a type the walker infers from the
  value itself (scalars, msgspec Structs, enums, and lists, tuples, sets and dicts of these).
  Small leaves are stored inline; big containers become a **blob** encoded in chunks, so that
  a million tasks are encoded and decoded by msgspec in C, never walked in Python;
- an **object**: an instance of a plain class of ours (restored by ``__new__`` and setting
  its attributes, never by calling code named in the file);
- a deque (with its ``maxlen``), a ``Counter``, or a dict or list holding objects.

Anything else (a function, a lock, an object shared by two models, a class outside
``tracker``) raises :class:`Unsupported` naming where it is, and the caller falls back to a
full replay instead of writing a checkpoint it could not read back faithfully.
"""

from __future__ import annotations

import enum
import importlib
import itertools
import operator
import typing
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import msgspec

CHUNK = 65_536  # entries per blob chunk
KEYED = "keyed:"  # blob kind of a dict written as its values: "keyed:<the key's field>"
PACKAGES = ("tracker.",)  # the only packages whose classes a snapshot may name
_SCALARS: dict[type, str] = {int: "int", float: "float", str: "str", bytes: "bytes",
                             bool: "bool", type(None): "none"}  # fmt: skip
_NAMED: dict[str, Any] = {"int": int, "float": float, "str": str, "bytes": bytes, "bool": bool,
                          "none": None, "any": Any}  # fmt: skip
_encoder = msgspec.msgpack.Encoder()
encode = _encoder.encode

Expr = Any  # "int" | ("struct", path) | ("list", Expr) | ("dict", Expr, Expr) | ...
Node = tuple


class Unsupported(Exception):
    """A read model holds a value that cannot be snapshotted; the message says where."""


def models(state: Any) -> list[tuple[str, Any]]:
    """The read models of ``state``: its public attributes other than ``position``."""
    return [(name, value) for name, value in vars(state).items()
            if not name.startswith("_") and name != "position"]  # fmt: skip


def attributes(obj: Any) -> list[tuple[str, Any]]:
    """Every attribute an object of ours holds, slots included, in a stable order."""
    found = list(vars(obj).items()) if hasattr(obj, "__dict__") else []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                found.append((name, getattr(obj, name)))
    return found


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


@lru_cache(maxsize=256)
def resolve_class(path: str) -> type:
    """The class a snapshot names; only classes of the ``tracker`` package are accepted."""
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith(PACKAGES):
        raise ValueError(f"snapshot names a class outside {PACKAGES}: {path}")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type):
        raise ValueError(f"snapshot names something that is not a class: {path}")
    return found


def ours(cls: type) -> bool:
    return cls.__module__.startswith(PACKAGES)


# -- type inference ---------------------------------------------------------------------------


def infer(values: Iterable[Any]) -> Expr | None:
    """The type of every value in ``values`` as an expression, or None if one is not a leaf."""
    return _infer_all([values if isinstance(values, list | tuple) else list(values)])


def _infer_all(collections: list[Iterable[Any]]) -> Expr | None:
    """The type of every value in all of ``collections`` (each iterable more than once)."""
    types: set[type] = set()
    for collection in collections:
        types.update(map(type, collection))
    exprs: set[Expr] = set()
    for cls in types:
        if cls in _SCALARS:
            exprs.add(_SCALARS[cls])
        elif issubclass(cls, msgspec.Struct) and ours(cls):
            exprs.add(("struct", class_path(cls)))
        elif issubclass(cls, enum.Enum) and ours(cls):
            exprs.add(("enum", class_path(cls)))
        elif cls in (list, set, frozenset, dict, tuple):
            members = [v for collection in collections for v in collection if type(v) is cls]
            found = _infer_containers(cls, members)
            if found is None:
                return None
            exprs.update(found)
        else:
            return None
    if not exprs:
        return "any"
    return exprs.pop() if len(exprs) == 1 else ("union", tuple(sorted(exprs, key=repr)))


def _infer_containers(cls: type, members: list[Any]) -> set[Expr] | None:
    if cls is dict:
        keys = _infer_all([member.keys() for member in members])
        values = _infer_all([member.values() for member in members])
        return None if keys is None or values is None else {("dict", keys, values)}
    if cls is tuple:
        return _infer_tuples(members)
    inner = _infer_all(members)
    return None if inner is None else {(cls.__name__, inner)}


def _infer_tuples(members: list[tuple]) -> set[Expr] | None:
    shapes = {tuple(map(type, member)) for member in members}
    if all(cls in _SCALARS for shape in shapes for cls in shape):
        return {("tuple", tuple(_SCALARS[cls] for cls in shape)) for shape in shapes}
    found: set[Expr] = set()
    for length in {len(member) for member in members}:
        same = [member for member in members if len(member) == length]
        items = tuple(infer([member[i] for member in same]) for i in range(length))
        if None in items:
            return None
        found.add(("tuple", items))
    return found


@lru_cache(maxsize=1024)
def to_type(expr: Expr) -> Any:
    """The Python type an expression stands for (msgspec decodes by it)."""
    if isinstance(expr, str):
        return _NAMED[expr]
    kind = expr[0]
    if kind in ("struct", "enum"):
        return resolve_class(expr[1])
    if kind == "union":
        return typing.Union[tuple(to_type(e) for e in expr[1])]  # noqa: UP007
    if kind == "tuple":
        return tuple[tuple(to_type(e) for e in expr[1])] if expr[1] else tuple[()]  # type: ignore[misc]
    if kind == "dict":
        return dict[to_type(expr[1]), to_type(expr[2])]  # type: ignore[misc]
    return {"list": list, "set": set, "frozenset": frozenset}[kind][to_type(expr[1])]  # type: ignore[index]


@lru_cache(maxsize=1024)
def decoder(expr: Expr) -> msgspec.msgpack.Decoder:
    return msgspec.msgpack.Decoder(to_type(expr))


def freeze(value: Any) -> Any:
    """Lists (as msgpack gives them back) to tuples, so expressions are hashable again."""
    return tuple(freeze(v) for v in value) if isinstance(value, list | tuple) else value


# -- planning: value -> node ------------------------------------------------------------------


class Plan:
    """The nodes of one snapshot and the big containers (blobs) they refer to."""

    def __init__(self, seen: set[int] | None = None) -> None:
        self.blobs: list[tuple[Any, str, Expr]] = []  # (container, kind, expression)
        # ids of the objects planned so far; share one set between the plans of one state's
        # attributes, so that an object reachable from two of them is found
        self._seen: set[int] = set() if seen is None else seen

    def node(self, value: Any, where: str) -> Node:
        expr = infer((value,))
        if expr is not None:
            return self._leaf(value, expr, where)
        cls = type(value)
        if cls is deque:
            return ("deque", value.maxlen, self.node(list(value), where))
        if cls is Counter:
            return ("counter", self.node(dict(value), where))
        if cls is dict:
            items = [
                (self.node(k, where), self.node(v, f"{where}[{k!r}]")) for k, v in value.items()
            ]
            return ("dict", items)
        if cls is list:
            return ("list", [self.node(v, f"{where}[{i}]") for i, v in enumerate(value)])
        if ours(cls) and not callable(value) and not issubclass(cls, msgspec.Struct):
            return self._object(value, where)
        raise Unsupported(f"{where}: cannot snapshot a {class_path(cls)}")

    def _leaf(self, value: Any, expr: Expr, where: str) -> Node:
        try:
            decoder(expr)
        except TypeError as exc:
            raise Unsupported(f"{where}: {exc}") from None
        kind = type(value).__name__
        if kind in ("dict", "list", "set", "frozenset") and len(value) > CHUNK:
            if kind == "dict" and (field := key_field(value, expr)):
                kind = f"{KEYED}{field}"
            self.blobs.append((value, kind, expr))
            return ("blob", expr, kind, len(self.blobs) - 1)
        return ("v", expr, encode(in_order(value) if kind in ("set", "frozenset") else value))

    def _object(self, value: Any, where: str) -> Node:
        if id(value) in self._seen:
            raise Unsupported(f"{where}: the same object is reachable twice")
        self._seen.add(id(value))
        items = [(name, self.node(v, f"{where}.{name}")) for name, v in attributes(value)]
        return ("obj", class_path(type(value)), items)


def key_field(value: dict[Any, Any], expr: Expr) -> str | None:
    """The field of the dict's Struct values that equals every entry's key, if one does:
    ``{task.id: task}``. Such a dict is written as its values alone and rebuilt keyed by that
    field, which takes the keys off the disk and shares each key with its value's field, as
    the dict the reducers built does (one int per task, not two)."""
    if expr[0] != "dict" or expr[1] not in ("int", "str") or expr[2][0] != "struct":
        return None
    key_type = _NAMED[expr[1]]
    first_key, first = next(iter(value.items()))
    for field in msgspec.structs.fields(resolve_class(expr[2][1])):
        if field.type is key_type and getattr(first, field.name) == first_key:
            values = map(operator.attrgetter(field.name), value.values())
            if all(map(operator.eq, value.keys(), values)):
                return field.name
            return None
    return None


def in_order(members: set[Any] | frozenset[Any]) -> list[Any]:
    """A set's members sorted: a set's iteration order depends on string hashing (random per
    process) and on its history, so snapshots and digests write sets in a canonical order."""
    try:
        return sorted(members)
    except TypeError:  # members of different types
        return sorted(members, key=lambda member: (type(member).__name__, repr(member)))


def chunks(container: Any, kind: str) -> Iterator[bytes]:
    """A blob's container as msgpack chunks of at most ``CHUNK`` entries."""
    if kind == "list":
        for start in range(0, len(container), CHUNK):
            yield encode(container[start : start + CHUNK])
        return
    if kind.startswith(KEYED):
        values = iter(container.values())
        while some := list(itertools.islice(values, CHUNK)):
            yield encode(some)
        return
    items = iter(container.items() if kind == "dict" else in_order(container))
    while part := (dict if kind == "dict" else list)(itertools.islice(items, CHUNK)):
        yield encode(part)


def chunk_decoder(kind: str, expr: Expr) -> msgspec.msgpack.Decoder:
    if kind.startswith(KEYED):
        return decoder(("list", expr[2]))
    return decoder(expr if kind in ("dict", "list") else ("list", expr[1]))


def empty_blob(kind: str) -> Any:
    """The container a blob's chunks are merged into (a keyed dict's values: a list)."""
    if kind.startswith(KEYED):
        return []
    return {"dict": dict, "list": list, "set": set, "frozenset": set}[kind]()


def blob_refs(node: Node) -> list[tuple[str, Expr]]:
    """(kind, expression) of every blob a (frozen) node refers to, by blob index."""
    found: dict[int, tuple[str, Expr]] = {}
    pending = [node]
    while pending:
        tag, *rest = pending.pop()
        if tag == "blob":
            found[rest[2]] = (rest[1], rest[0])
        elif tag in ("deque", "counter"):
            pending.append(rest[-1])
        elif tag in ("dict", "list", "obj"):
            for item in rest[-1]:
                pending.extend(item if tag == "dict" else [item] if tag == "list" else [item[1]])
    if sorted(found) != list(range(len(found))):
        raise ValueError("a snapshot node refers to blobs out of order")
    return [found[index] for index in range(len(found))]


# -- building: node -> value ------------------------------------------------------------------


def build(node: Node, blobs: list[Any]) -> Any:
    """The value a (frozen) node describes; ``blobs`` holds the decoded blob containers."""
    tag = node[0]
    if tag == "v":
        return decoder(node[1]).decode(node[2])
    if tag == "blob":
        value, kind = blobs[node[3]], node[2]
        if kind.startswith(KEYED):
            keys = map(operator.attrgetter(kind[len(KEYED) :]), value)
            return dict(zip(keys, value, strict=True))
        return frozenset(value) if kind == "frozenset" else value
    if tag == "deque":
        return deque(build(node[2], blobs), node[1])
    if tag == "counter":
        return Counter(build(node[1], blobs))
    if tag == "dict":
        return {build(k, blobs): build(v, blobs) for k, v in node[1]}
    if tag == "list":
        return [build(v, blobs) for v in node[1]]
    if tag == "obj":
        cls = resolve_class(node[1])
        if issubclass(cls, msgspec.Struct) or cls.__new__ is not object.__new__:
            raise ValueError(f"snapshot names a class it cannot rebuild: {node[1]}")
        obj = cls.__new__(cls)
        restore_attributes(obj, node[2], blobs)
        return obj
    raise ValueError(f"unknown snapshot node {tag!r}")


def restore_attributes(obj: Any, items: list, blobs: list[Any]) -> None:
    for name, child in items:
        object.__setattr__(obj, name, build(child, blobs))
