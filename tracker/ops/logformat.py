"""Where the tracker's log lines go and how they look: ``log.format`` text (the default,
readable) or json (one object per line, for log shippers), on standard error.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, every field
the code attaches with ``extra=`` (``action``, ``events``, ``seconds``, ...) and ``exception``
when there is one. Nothing here adds request headers or bodies: the request log
(``tracker.http.requests``, at ``log.level: debug``) carries method, route, status and time.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_LEVELS = {"TRACE": logging.DEBUG, "PANIC": logging.CRITICAL, "FATAL": logging.CRITICAL,
           "WARN": logging.WARNING}  # fmt: skip
_STANDARD = {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime"}
_encoder = msgspec.json.Encoder(enc_hook=repr)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _encoder.encode(line).decode()


def level_number(level: str) -> int:
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else _LEVELS.get(level.upper(), logging.INFO)


def setup(level: str, form: str = "text") -> None:
    """Send log lines to standard error in format ``form``: the tracker's own (``tracker.*``)
    from ``level`` up, other libraries' from ``warning`` up whatever ``level`` says.

    ``debug`` and ``trace`` (the original's shipped level) are for the tracker's lines: the
    libraries' debug lines are noise (tzlocal, asyncio, apscheduler) or worse, aiosqlite's
    hold every statement's parameters (events, secrets included)."""
    numeric = level_number(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger("tracker").setLevel(numeric)
