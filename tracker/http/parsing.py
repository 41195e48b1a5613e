"""Request decoding with the original's rules, and errors that say what is wrong.

The original decoded JSON with Go's ``encoding/json``: keys match fields case-insensitively
(an exact match wins), unknown keys are ignored, ``null`` and missing keys take the zero value.
Types are strict: ``"1"`` is not an int, ``1.5`` is not an int, and integers must fit their
field (16-bit task fields included). Any failure is a 400 ``Could not parse request: <why>``.

Unlike Go (which kept the last), an object that repeats a key is refused: two parsers that
disagree on which copy counts are how a request gets past a check (docs/compatibility.md).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

import msgspec
from aiohttp import web

from tracker.errors import InvalidRequest, TrackerError
from tracker.http.call import Call

T = TypeVar("T")

Int16 = Annotated[int, msgspec.Meta(ge=-(2**15), le=2**15 - 1)]
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]

_json = msgspec.json.Decoder()


def normalize(value: Any) -> Any:
    """Lower-case object keys (an exact lower-case key wins) and drop nulls, as Go would."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        lower = key.lower()
        if lower == key or lower not in out:
            out[lower] = item
    return out


def convert(data: Any, into: type[T], *, nested: tuple[str, ...] = (), shape: str = "",
            normal: bool = False) -> T:  # fmt: skip
    """Convert decoded JSON into ``into``; ``nested`` names list fields of objects to normalize;
    ``shape`` (``{"requests": [...]}``) is what a body that is not an object is told to be;
    ``normal``: the caller knows normalizing would change nothing."""
    if data is None:
        data = {}
    if shape and type(data) is not dict:
        kind = _KINDS.get(type(data), "a JSON value")
        raise InvalidRequest(f"Could not parse request: expected an object {shape}, got {kind}")
    if not normal:
        data = normalize(data)
        for field in nested if isinstance(data, dict) else ():
            items = data.get(field)
            if isinstance(items, list):
                data[field] = [normalize(item) for item in items]
    try:
        return msgspec.convert(data, into, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"Could not parse request: {exc}") from None


class BodyTooLarge(TrackerError):
    message = "Request body too large"


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise InvalidRequest("Could not parse request: the body is empty")
    try:
        data = _json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"Could not parse request: {exc}") from None
    except UnicodeDecodeError:  # msgspec raises it for invalid UTF-8 inside a string
        raise InvalidRequest("Could not parse request: the body is not valid UTF-8") from None
    except RecursionError:
        raise InvalidRequest("Could not parse request: the JSON is nested too deeply") from None
    if type(data) in _CONTAINERS:
        _check_keys(body, data)
    return data


_CONTAINERS = (dict, list)
_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _check_keys(body: bytes, data: dict | list) -> None:
    """Refuse a repeated key. Each key is followed by a colon, so when the body holds no more
    colons than ``data`` holds keys, no key was repeated: the exact check runs only when a
    colon inside a string (or a repeated key) makes the counts differ. A flat object (most
    bodies) is settled by its length alone."""
    colons = body.count(b":")
    if type(data) is dict and colons == len(data):
        return
    try:
        if colons > _keys(data):
            json.loads(body, object_pairs_hook=_unique_pairs, parse_int=len, parse_float=len)
    except RecursionError:
        raise InvalidRequest("Could not parse request: the JSON is nested too deeply") from None
    except ValueError as exc:  # InvalidRequest is no ValueError
        raise InvalidRequest(f"Could not parse request: {exc}") from None


def _keys(value: dict | list) -> int:
    """How many object keys ``value`` holds, at any depth."""
    count = 0
    if type(value) is dict:
        count = len(value)
        value = value.values()  # type: ignore[assignment]
    for item in value:
        if type(item) in _CONTAINERS:
            count += _keys(item)
    return count


def _unique_pairs(pairs: list[tuple[str, Any]]) -> None:
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidRequest(f"Could not parse request: the key {_go_quote(key[:64])} is "
                                 "repeated in an object")  # fmt: skip
        seen.add(key)


async def read(request: Call) -> bytes:
    """The request body; 413 with the envelope when it is over ``server.max_body_size``."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.client_max_size
        raise BodyTooLarge(f"Request body too large: the limit is {limit} bytes") from None


async def body(request: Call, into: type[T], *, nested: tuple[str, ...] = (),
               shape: str = "") -> T:  # fmt: skip
    raw = await read(request)
    return convert(decode_json(raw), into, nested=nested, shape=shape, normal=_normal(raw))


def _normal(body: bytes) -> bool:
    """Whether ``normalize`` would change nothing in this body's objects: no ``null`` and no
    upper-case letter anywhere (keys are then as Go matches them), all ASCII and no escape
    (``str.lower`` folds some other letters to ASCII ones, such as the Kelvin sign to ``k``;
    ``\u0054`` is a ``T``). A batch of a hundred releases is then parsed in half the time."""
    return (body.isascii() and b"\\" not in body and b"null" not in body
            and body.lower() == body)  # fmt: skip


_GO_INT = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", '"': '\\"', "\\": "\\\\"}  # fmt: skip


def _go_quote(text: str) -> str:
    """``text`` in double quotes as Go's ``strconv.Quote`` writes it. Bytes that were not
    UTF-8 (decoded by aiohttp as surrogate escapes) become ``\\xNN``, so the message can be
    encoded as JSON."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def parse_int64(text: str) -> int:
    """``text`` as Go's ``strconv.ParseInt(text, 10, 64)`` reads it, or ValueError with Go's text.

    Only ASCII digits after an optional sign: no spaces, underscores or other scripts' digits
    (which Python's ``int`` would accept).
    """
    if not _GO_INT.fullmatch(text):
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(text[:64])}: invalid syntax")
    # The length check comes before int(), which refuses more than 4300 digits.
    if len(text.lstrip("+-").lstrip("0")) > 19 or not -(2**63) <= int(text) < 2**63:
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(text[:64])}: value out of range")
    return int(text)


def path_id(request: Call, name: str, message: str) -> int:
    """A positive signed 64-bit id from the path; ``message`` is the route's error text."""
    try:
        value = parse_int64(request.match_info[name])
    except ValueError:
        raise InvalidRequest(message) from None
    if value <= 0:
        raise InvalidRequest(message)
    return value


def path_id_or_zero(request: Call, name: str) -> int:
    """A positive signed 64-bit id from the path, 0 for anything else: for a route whose
    command refuses 0 itself, after the rules the original checked first."""
    try:
        return path_id(request, name, "")
    except InvalidRequest:
        return 0


def query_count(request: Call, name: str, most: int) -> int:
    """A count from 1 to ``most`` in the query; 400 naming the bounds otherwise."""
    text = request.query.get(name, "")
    if not _DIGITS.fullmatch(text) or len(text) > 19 or not 1 <= int(text) <= most:
        raise InvalidRequest(f"Invalid request: {name} must be a whole number from 1 to {most}")
    return int(text)


def query_uint(request: web.Request, name: str) -> int:
    """An unsigned query integer; missing or malformed counts as 0, as in the original."""
    text = request.query.get(name, "")
    if not _DIGITS.fullmatch(text) or len(text.lstrip("0")) > 20:
        return 0  # str.isdigit() would let "²" through to int(), which refuses it
    value = int(text)
    return value if value < 2**64 else 0
