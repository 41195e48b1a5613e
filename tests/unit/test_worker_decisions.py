"""Given events, when a worker command is decided, then these events (or this refusal)."""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.decisions import (
    NOW,
)
from tests.unit.given import state_of
from tracker.commands.decide import decide
from tracker.commands.workers import AliasTooLong, CreateWorker, ReservedAlias, UpdateWorker
from tracker.events.base import worker_actor
from tracker.events.workers import WorkerAliasChanged, WorkerCreated
from tracker.http.statuses import status_of

# --- workers --------------------------------------------------------------------------------


def test_creating_a_worker_takes_the_next_id_and_the_default_alias() -> None:
    state = state_of(given.worker(1))
    assert decide(state, CreateWorker(alias="", secret=b"k" * 32), NOW) == [
        WorkerCreated(at=NOW, actor=worker_actor(2), worker_id=2, alias="default_alias",
                      secret=b"k" * 32)
    ]  # fmt: skip


def test_the_reserved_alias_is_refused_on_create_and_update() -> None:
    state = state_of(given.worker(1))
    for command in (CreateWorker(alias="unassigned", secret=b""),
                    UpdateWorker(worker_id=1, alias="unassigned")):  # fmt: skip
        with pytest.raises(ReservedAlias) as refused:
            decide(state, command, NOW)
        assert (status_of(refused.value), refused.value.message) == (
            403,
            "You are now allowed to create a worker",
        )


def test_an_alias_is_limited_to_1024_bytes() -> None:
    state = state_of(given.worker(1))
    with pytest.raises(AliasTooLong):
        decide(state, UpdateWorker(worker_id=1, alias="é" * 513), NOW)
    assert decide(state, UpdateWorker(worker_id=1, alias="é" * 512), NOW) == [
        WorkerAliasChanged(at=NOW, actor=worker_actor(1), worker_id=1, alias="é" * 512)
    ]


def test_updating_to_an_empty_alias_is_allowed() -> None:
    state = state_of(given.worker(1))
    assert decide(state, UpdateWorker(worker_id=1, alias=""), NOW)[0].alias == ""
