"""Why a task failed, in at most ``MAX_REASON_BYTES`` of UTF-8: what a release's ``reason``
carries to the tracker (which refuses a longer one; the original ignores the field).

Texts are cut on a character boundary, never inside one: the start of a message is kept (its
type and first words say the most), the end of a command's standard error (its last lines).
"""

from __future__ import annotations

#: The tracker's bound on a release's reason (``tracker.http.routes.tasks.MAX_REASON_BYTES``;
#: the client imports nothing from the server, so the number is repeated here).
MAX_REASON_BYTES = 4096


def first_bytes(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """The longest start of ``text`` that is at most ``limit`` bytes of UTF-8 (a character
    that is not text, such as a lone surrogate, becomes ``?``)."""
    data = text.encode("utf-8", "replace")
    return data[:limit].decode("utf-8", "ignore")  # drops a character cut in two


def last_bytes(text: str, limit: int) -> str:
    """The longest end of ``text`` that is at most ``limit`` bytes of UTF-8."""
    data = text.encode("utf-8", "replace")
    tail = data[max(0, len(data) - limit) :] if limit > 0 else b""
    return tail.decode("utf-8", "ignore")  # drops the continuation bytes of a cut character


def reason_of(error: BaseException) -> str:
    """The reason a failed handler's exception gives: its own ``reason`` when it has one (a
    command's exit status and standard error), else its type and message."""
    reason = getattr(error, "reason", None)
    if not isinstance(reason, str):
        message = str(error)
        reason = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return first_bytes(reason)
