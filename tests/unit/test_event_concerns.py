"""Each event type answers which tasks, project and workers it concerns and which of its
fields are secret, next to its definition; the audit tools (export, feed, history, index)
ask the event instead of reading field names themselves."""

from __future__ import annotations

import msgspec
import pytest

from tests.unit import given
from tracker.audit import records
from tracker.events import codec
from tracker.events.base import SYSTEM, actor_worker
from tracker.events.store import StoredRow
from tracker.events.tasks import (
    Assignment,
    AssignmentExtended,
    NewTask,
    Outcome,
    Release,
    TasksAssigned,
    TasksReleased,
    TasksSubmitted,
    TaskSubmitted,
)
from tracker.startup.index import task_keys

_SECRET_LOOKING = ("secret", "password", "token")


@pytest.mark.parametrize("event_type", codec.EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_field_that_looks_secret_is_declared_secret(event_type: type) -> None:
    names = [field.name for field in msgspec.structs.fields(event_type)]
    looking = {name for name in names if any(word in name for word in _SECRET_LOOKING)}
    assert looking == set(event_type.secret_fields)
    assert set(event_type.secret_fields) <= set(names)


def test_task_events_name_the_tasks_they_concern() -> None:
    copy = TaskSubmitted(at=0, actor=SYSTEM, task_id=8, project_id=2, recipe="r", priority=0,
                         max_retries=0, max_assign_time=0, verification_count=1,
                         chained_from=5)  # fmt: skip
    bulk = TasksSubmitted(at=0, actor="worker:1", project_id=1, first_task_id=10,
                          tasks=[NewTask("a"), NewTask("b"), NewTask("c")])  # fmt: skip
    assert set(copy.concerned_tasks()) == {8, 5}
    assert list(bulk.concerned_tasks()) == [10, 11, 12]
    assert list(given.assigned(4, 2).concerned_tasks()) == [4]
    assert list(given.expired(4, 2).concerned_tasks()) == [4]
    assert list(given.workshop()[0].concerned_tasks()) == []


def test_batch_events_name_every_task_they_list_and_their_worker() -> None:
    taken = TasksAssigned(at=0, actor="worker:3", project_id=2, worker_id=3,
                          tasks=[Assignment(5, 10.0), Assignment(9, 10.0)])  # fmt: skip
    given_back = TasksReleased(at=0, actor="worker:3", project_id=2, worker_id=3,
                               tasks=[Release(9, 1, Outcome.RETRY, reason="x")])  # fmt: skip
    kept = AssignmentExtended(at=0, actor="worker:3", task_id=5, project_id=2, worker_id=3,
                              deadline=20.0)  # fmt: skip
    assert [list(e.concerned_tasks()) for e in (taken, given_back, kept)] == [[5, 9], [9], [5]]
    assert {e.concerned_project() for e in (taken, given_back, kept)} == {2}
    assert all(e.concerned_workers() == {3} for e in (taken, given_back, kept))
    assert set(task_keys(codec.encode(taken))) == {5, 9}
    assert records.Filter(task=9, worker=3, project=2)(given_back)
    assert not records.Filter(task=5)(given_back)


def test_the_index_asks_the_event_and_skips_what_it_cannot_read() -> None:
    assert set(task_keys(codec.encode(given.released(7, 1, Outcome.CLOSED)))) == {7}
    assert set(task_keys(b'{"type": "NoSuchEvent", "task_id": 3}')) == set()
    assert set(task_keys(b"not json")) == set()


def test_an_event_concerns_the_worker_it_names_and_the_worker_who_caused_it() -> None:
    assigned = given.assigned(4, 2)
    assert assigned.concerned_workers() == {2}
    assert given.expired(4, 2).concerned_workers() == {2}  # actor is the system
    assert given.workshop()[0].concerned_workers() == set()  # the system created it
    assert actor_worker("worker:12") == 12
    assert actor_worker("manager:12") is None and actor_worker("worker:x") is None


def _row(data: bytes, position: int = 1) -> StoredRow:
    return StoredRow(position, "?", data, bytes(32))


def test_records_redact_the_declared_secrets_only() -> None:
    created = next(e for e in given.worker(3) if type(e).__name__ == "WorkerCreated")
    found = records.record(_row(codec.encode(created)), created)
    assert found["redacted"] == ["secret"]
    assert found["event"]["secret"] == records.REDACTED
    assert found["event"]["worker_id"] == 3


def test_a_record_of_an_unknown_event_type_shows_only_when_and_who() -> None:
    row = _row(b'{"type": "FromTheFuture", "at": 1.0, "actor": "worker:1", "v": 2, "key": "k"}')
    event = records.event_of(row)
    assert event is None
    found = records.record(row, event)
    assert found["type"] == "FromTheFuture"
    assert found["event"] == {"at": 1.0, "actor": "worker:1", "v": 2, "key": records.REDACTED}
    assert records.Filter()(event) and not records.Filter(project=1)(event)


def test_filters_ask_the_event() -> None:
    release = given.released(7, 2, Outcome.CLOSED, project_id=3)
    assert records.Filter(project=3, task=7, worker=2)(release)
    assert not records.Filter(project=1)(release)
    assert not records.Filter(task=8)(release)
    assert not records.Filter(worker=1)(release)
