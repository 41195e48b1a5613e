"""The shape every event shares.

Events are immutable facts, named in the past tense. Each one records when it was decided
(``at``, Unix seconds) and who caused it (``actor``), so replay never reads a clock and the
log answers "who did what, when". Schema evolution follows msgspec's rules: new fields get
defaults, nothing is renamed or retyped; ``v`` says which revision of a type wrote a record.
"""

from __future__ import annotations

import msgspec

SYSTEM = "system"
WEBHOOK = "webhook"  # a signed git push


def worker_actor(worker_id: int) -> str:
    return f"worker:{worker_id}"


def manager_actor(manager_id: int) -> str:
    return f"manager:{manager_id}"


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of all events. Subclasses set ``tag=True`` so the class name is the stored type."""

    at: float
    actor: str
    v: int = 1


class Recorded(msgspec.Struct, frozen=True, gc=False):
    """An event as the log holds it: its global position and its link in the hash chain."""

    position: int
    event: Event
    hash: bytes = b""
