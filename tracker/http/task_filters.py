"""The task browser's query string, read once for the API and the UI alike.

``state``, ``worker``, ``priority_min``, ``priority_max``, ``recipe``, ``submitted_from``,
``submitted_to``, ``sort``, ``cursor`` and ``limit``; an empty value means "not given", so a
GET form's blank fields filter nothing. Times are Unix seconds or ISO 8601 (``2026-12-08T02:50``,
UTC when no offset is given). Anything else is refused with a 400 that names the parameter.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import TypeVar

import msgspec

from tracker.errors import InvalidRequest
from tracker.queries.tasks import MAX_LIMIT, Sort, TaskFilter, TaskState

E = TypeVar("E", TaskState, Sort)

PARAMETERS = ("state", "worker", "priority_min", "priority_max", "recipe", "submitted_from",
              "submitted_to", "sort", "cursor", "limit")  # fmt: skip
# Bounds that keep any query within aiohttp's 8,190-byte request line, even with every
# character percent-encoded from four UTF-8 bytes (12 bytes each).
MAX_RECIPE = 500  # characters of a recipe substring
MAX_TIME = 40  # characters of a time
DEFAULT_LIMIT = 50


class Listing(msgspec.Struct, frozen=True):
    """A parsed query: which tasks, in which order, from where, how many."""

    where: TaskFilter
    sort: Sort = Sort.ID
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def listing(project_id: int, query: Mapping[str, str], ignore: tuple[str, ...] = ()) -> Listing:
    """The listing a query string asks for; ``ignore``: other parameters the caller reads."""
    if len(query) != len(set(query.keys())):  # a MultiDict counts a repeated name twice
        raise InvalidRequest("Could not parse request: a parameter is repeated")
    for name in query:
        if name not in PARAMETERS and name not in ignore:
            raise _bad(name, f"is not a parameter (expected one of {', '.join(PARAMETERS)})")
    given = {name: query[name].strip() for name in PARAMETERS if query.get(name, "").strip()}
    recipe = query.get("recipe", "")
    if len(recipe) > MAX_RECIPE:
        raise _bad("recipe", f"is longer than {MAX_RECIPE} characters")
    where = TaskFilter(
        project=project_id, state=_choice(given, "state", TaskState),
        worker=_integer(given, "worker", 1, 2**63 - 1),
        priority_min=_integer(given, "priority_min", -(2**63), 2**63 - 1),
        priority_max=_integer(given, "priority_max", -(2**63), 2**63 - 1),
        recipe=recipe, submitted_from=_time(given, "submitted_from"),
        submitted_to=_time(given, "submitted_to"),
    )  # fmt: skip
    sort = _choice(given, "sort", Sort) or Sort.ID
    limit = _integer(given, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    return Listing(where, sort, given.get("cursor"), limit)


def _bad(name: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"Could not parse request: {name} {why}")


def _choice(given: dict[str, str], name: str, kind: type[E]) -> E | None:
    text = given.get(name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise _bad(name, f"must be one of {', '.join(item.value for item in kind)}") from None


def _integer(given: dict[str, str], name: str, low: int, high: int) -> int | None:
    text = given.get(name)
    if text is None:
        return None
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19) or not (
        low <= int(text) <= high
    ):
        raise _bad(name, f"must be an integer from {low} to {high}")
    return int(text)


def _time(given: dict[str, str], name: str) -> float | None:
    text = given.get(name)
    if text is None:
        return None
    if len(text) > MAX_TIME:
        raise _bad(name, f"is longer than {MAX_TIME} characters")
    try:
        seconds = float(text)
    except ValueError:
        seconds = _iso(text, name)
    if not math.isfinite(seconds) or not 0 <= seconds < 2**40:
        raise _bad(name, "must be a time after 1970 (Unix seconds or ISO 8601)")
    return seconds


def _iso(text: str, name: str) -> float:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _bad(name, "must be Unix seconds or an ISO 8601 time (2026-12-08T02:50)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
