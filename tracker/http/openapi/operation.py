"""``Op``: one row of the API table: what ``document.py`` needs to describe one route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Who may call, as OpenAPI security requirements (any one of a list will do).
Security = dict[str, list[str]]
ANYONE: Security = {}
WORKER: Security = {"workerId": [], "workerSecret": []}
MANAGER: Security = {"managerSession": []}
AUDIT_TOKEN: Security = {"auditToken": []}
METRICS_TOKEN: Security = {"metricsToken": []}
WEBHOOK: Security = {"webhookSignature": []}

# Error statuses most routes share: a request the tracker cannot read, a log it cannot write.
READS = (400,)
WRITES = (400, 409, 413, 503)


@dataclass(frozen=True)
class Query:
    name: str
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Op:
    """One route. ``content`` is the type of the envelope's ``content`` on success (None: the
    envelope has none; ``ok_status`` 204: no body at all). ``errors`` are the other statuses,
    each answered with the envelope. ``refusal_200``: some refusals are 200 with ``ok: false``
    (``No task available``), as in the original."""

    method: str
    path: str
    tag: str
    summary: str
    security: tuple[Security, ...]
    body: type | None = None
    content: Any = None
    ok_status: int = 200
    errors: tuple[int, ...] = READS
    query: tuple[Query, ...] = ()
    refusal_200: bool = False
    media: str = "application/json"  # of the success answer; text/plain ones have no envelope
    description: str = ""
    # name -> (method, path, {path parameter: runtime expression}) of an operation to call next
    links: dict[str, tuple[str, str, dict[str, str]]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path
