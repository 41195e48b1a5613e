"""The OpenAPI 3.1 document, built from ``table.OPERATIONS``.

Request and ``content`` schemas come from ``msgspec.json.schema_components`` over the very types
the handlers decode and answer with, so the document follows the code. Every JSON answer is the
``{ok, message, rate_limit_delay, content}`` envelope (``tracker.http.envelope``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from tracker import API_NAME, API_VERSION
from tracker.http.openapi.operation import Op

_REF = "#/components/schemas/{name}"
_PARAM = re.compile(r"\{(\w+)\}")
_STATUS_TEXT = {200: "Done", 204: "Done, no body", 400: "The request cannot be read or breaks a "
                "rule", 401: "No valid credentials", 403: "Not permitted",
                404: "No such thing", 409: "The log moved on (another writer)",
                413: "Body over server.max_body_size", 429: "Over the project's rate: retry "
                "after rate_limit_delay seconds", 503: "The log cannot be written, an index is "
                "being built, or too many heavy reads run (retry after Retry-After)"}  # fmt: skip

ERROR = {
    "type": "object",
    "properties": {
        "ok": {"const": False},
        "message": {"type": "string"},
        "rate_limit_delay": {"type": "number"},
        "content": {},
    },
    "required": ["ok", "message"],
}


#: A 200 with ``ok: false`` (``No task available``; ``/account`` when not logged in).
NOT_DONE = {
    "type": "object",
    "properties": {"ok": {"const": False}, "message": {"type": "string"}, "content": {}},
    "required": ["ok"],
}


def operation_id(method: str, path: str) -> str:
    words = re.findall(r"[a-z0-9]+", path.replace("{", "by_").lower())
    return "_".join([method.lower(), *words]) if words else f"{method.lower()}_root"


def _envelope(content: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"ok": {"const": True}, "message": {"type": "string"}}
    schema = {"type": "object", "properties": properties, "required": ["ok"]}
    if content is not None:
        properties["content"] = content
        schema["required"] = ["ok", "content"]
    return schema


def _success(op: Op, content: dict[str, Any] | None) -> dict[str, Any]:
    if op.ok_status == 204:
        return {"description": _STATUS_TEXT[204]}
    if op.media != "application/json":
        return {
            "description": _STATUS_TEXT[200],
            "content": {op.media: {"schema": {"type": "string"}}},
        }
    if op.path == "/openapi.json":
        schema: dict[str, Any] = {"type": "object"}
    else:
        schema = _envelope(content)
        if op.refusal_200:
            schema = {"anyOf": [schema, {"$ref": "#/components/schemas/NotDone"}]}
    response: dict[str, Any] = {"description": _STATUS_TEXT[200],
                                "content": {"application/json": {"schema": schema}}}  # fmt: skip
    if op.links:
        response["links"] = {
            name: {"operationId": operation_id(method, path), "parameters": parameters}
            for name, (method, path, parameters) in op.links.items()
        }
    return response


def _error(op: Op, status: int) -> dict[str, Any]:
    media = "text/plain" if op.media == "text/plain" and status != 401 else "application/json"
    schema = (
        {"type": "string"} if media == "text/plain" else {"$ref": "#/components/schemas/Refusal"}
    )
    return {"description": _STATUS_TEXT[status], "content": {media: {"schema": schema}}}


def _parameters(op: Op) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
        for name in _PARAM.findall(op.path)
    ]  # fmt: skip
    query = [
        {"name": q.name, "in": "query", "required": q.required, "schema": q.schema,
         **({"description": q.description} if q.description else {})}
        for q in op.query
    ]  # fmt: skip
    return path + query


def _operation(op: Op, body: dict[str, Any] | None, content: dict[str, Any] | None) -> dict:
    out: dict[str, Any] = {
        "operationId": operation_id(op.method, op.path),
        "tags": [op.tag],
        "summary": op.summary,
        "security": [dict(requirement) for requirement in op.security],
        "responses": {str(op.ok_status): _success(op, content)}
        | {str(status): _error(op, status) for status in sorted(set(op.errors))},
    }
    if op.description:
        out["description"] = op.description
    parameters = _parameters(op)
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return out


def _security_schemes(cookie_name: str, signature_header: str) -> dict[str, Any]:
    return {
        "workerId": {"type": "apiKey", "in": "header", "name": "X-Worker-Id",
                     "description": "a worker's id (with X-Secret)"},
        "workerSecret": {"type": "apiKey", "in": "header", "name": "X-Secret",
                         "description": "the worker's secret, base64, from /worker/create"},
        "managerSession": {"type": "apiKey", "in": "cookie", "name": cookie_name,
                           "description": "the session cookie /login and /register set"},
        "auditToken": {"type": "http", "scheme": "bearer", "description": "audit.token"},
        "metricsToken": {"type": "http", "scheme": "bearer", "description": "metrics.token"},
        "webhookSignature": {"type": "apiKey", "in": "header",
                             "name": signature_header,
                             "description": "HMAC of the body with the project's webhook secret"},
    }  # fmt: skip


def build(
    operations: tuple[Op, ...], cookie_name: str = "tt", signature_header: str = "X-Gogs-Signature"
) -> dict[str, Any]:
    types = [t for op in operations for t in (op.body, op.content) if t is not None]
    refs, components = msgspec.json.schema_components(types, ref_template=_REF)
    by_type = dict(zip(types, refs, strict=True))
    components["Refusal"] = ERROR
    components["NotDone"] = NOT_DONE
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        body = by_type.get(op.body) if op.body is not None else None
        content = by_type.get(op.content) if op.content is not None else None
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, body, content)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": API_NAME,
            "version": API_VERSION,
            "description": "The tracker's HTTP API. Every JSON answer is the envelope "
            "{ok, message, rate_limit_delay, content}; keys of request bodies match in "
            "any case, unknown keys are ignored, null is the zero value, and an object "
            "that repeats a key is refused with 400.",
        },  # fmt: skip
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": _security_schemes(cookie_name, signature_header),
        },
    }
