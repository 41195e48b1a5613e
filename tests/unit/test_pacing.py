"""Token buckets of capacity one, folded from the events that take tokens
(``tracker/projections/pacing.py``): a request asks ``delay`` and, when admitted, its event
takes the tokens, as ``decide`` and ``apply`` do."""

from __future__ import annotations

import pytest

from tracker.events import projects as pev
from tracker.events import tasks as tev
from tracker.events.base import SYSTEM, Event
from tracker.projections.pacing import ASSIGN, HANDLERS, SUBMIT, UNLIMITED, Pacing


class State:
    """Only the pacing read model, folded as ``State.apply`` folds it."""

    def __init__(self) -> None:
        self.pacing = Pacing()

    def apply(self, event: Event) -> None:
        HANDLERS[type(event)](self.pacing, event)  # type: ignore[arg-type]


T = 1_700_000_000.0


def set_rates(state: State, project: int = 1, *, submit: float = UNLIMITED,
              assign: float = UNLIMITED, update: bool = False) -> None:  # fmt: skip
    fields = dict(project_id=project, name=f"p{project}", clone_url="", git_repo="", version="",
                  priority=0, motd="", public=False, hidden=False, chain=0,
                  assign_rate=assign, submit_rate=submit)  # fmt: skip
    if update:
        state.apply(pev.ProjectUpdated(at=T, actor=SYSTEM, paused=False, **fields))
    else:
        state.apply(pev.ProjectCreated(at=T, actor=SYSTEM, webhook_secret="", **fields))


def take(state: State, at: float, n: int = 1, project: int = 1, kind: str = SUBMIT) -> float:
    """Ask for ``n`` tokens at ``T + at``; when admitted, fold the event that takes them."""
    delay = state.pacing.delay(project, kind, n, T + at)
    if delay == 0.0:
        if kind == ASSIGN:
            state.apply(tev.TaskAssigned(at=T + at, actor="worker:1", task_id=1,
                                         project_id=project, worker_id=1,
                                         deadline=T + 999))  # fmt: skip
        else:
            tasks = [tev.NewTask(f"r{i}") for i in range(n)]
            state.apply(tev.TasksSubmitted(at=T + at, actor="worker:1", project_id=project,
                                           first_task_id=1, tasks=tasks))  # fmt: skip
    return delay


@pytest.fixture
def state() -> State:
    return State()


def test_the_second_request_inside_the_window_waits_for_the_refill(state: State) -> None:
    set_rates(state, submit=2.0)
    assert take(state, 0) == 0.0
    assert take(state, 0) == 0.5  # rate 2: one token every half second
    assert take(state, 0.25) == 0.25  # the wait shrinks as time passes; a refusal costs nothing
    assert take(state, 0.5) == 0.0
    assert take(state, 0.5) == 0.5


def test_a_fractional_rate_means_one_token_every_several_seconds(state: State) -> None:
    set_rates(state, submit=0.5)
    assert take(state, 0) == 0.0
    assert take(state, 1) == 1.0
    assert take(state, 2) == 0.0


def test_tokens_do_not_pile_up_beyond_one(state: State) -> None:
    set_rates(state, submit=2.0)
    assert take(state, 0) == 0.0
    assert take(state, 100) == 0.0  # a long pause still leaves one token only
    assert take(state, 100) == 0.5


def test_a_bulk_is_admitted_when_the_bucket_is_full_and_leaves_a_debt(state: State) -> None:
    set_rates(state, submit=1.0)
    assert take(state, 0, n=5) == 0.0  # the original refused this forever
    assert take(state, 0) == 5.0  # four tokens owed, then one to fill up
    assert take(state, 4.5) == 0.5
    assert take(state, 5) == 0.0


def test_a_bulk_waits_until_the_bucket_is_full_not_until_it_holds_n_tokens(state: State) -> None:
    set_rates(state, submit=1.0)
    assert take(state, 0) == 0.0
    assert take(state, 0.25, n=10) == 0.75
    assert take(state, 1, n=10) == 0.0
    assert take(state, 1) == 10.0


def test_an_unlimited_rate_never_limits_even_a_bulk(state: State) -> None:
    set_rates(state)
    for _ in range(3):
        assert take(state, 0, n=1000) == 0.0
    assert state.pacing.buckets == {}  # nothing to keep for an unlimited project


def test_a_new_rate_starts_a_full_bucket_and_the_same_rate_keeps_its_debt(state: State) -> None:
    set_rates(state, submit=0.1)
    assert take(state, 0) == 0.0
    assert take(state, 1) == pytest.approx(9.0)
    set_rates(state, submit=1.0, update=True)  # the project was updated to a new rate
    assert take(state, 1) == 0.0
    assert take(state, 1) == 1.0
    set_rates(state, submit=1.0, update=True)  # same rate: same bucket
    assert take(state, 1.5) == 0.5


def test_projects_and_kinds_have_their_own_buckets(state: State) -> None:
    set_rates(state, 1, submit=2.0, assign=2.0)
    set_rates(state, 2, submit=2.0)
    assert take(state, 0, project=1) == 0.0
    assert take(state, 0, project=2) == 0.0
    assert take(state, 0, project=1, kind=ASSIGN) == 0.0
    assert take(state, 0, project=1) == 0.5


def test_a_clock_that_steps_back_neither_refills_nor_drains(state: State) -> None:
    set_rates(state, submit=2.0)
    assert take(state, 10) == 0.0
    assert take(state, 9) == 0.5  # a second back: still half a second to wait from the top
    assert take(state, 10.5) == 0.0


def test_a_chain_copy_takes_no_submit_token(state: State) -> None:
    set_rates(state, submit=1.0)
    state.apply(tev.TaskSubmitted(at=T, actor=SYSTEM, task_id=9, project_id=1, recipe="r",
                                  priority=0, max_retries=0, max_assign_time=0,
                                  verification_count=1, chained_from=3))  # fmt: skip
    assert take(state, 0) == 0.0


def test_a_replay_of_the_same_events_holds_the_same_buckets(state: State) -> None:
    set_rates(state, submit=0.5, assign=2.0)
    for at in (0.0, 0.3, 2.0, 2.1, 4.5):
        take(state, at)
        take(state, at, kind=ASSIGN)
    replayed = State()
    set_rates(replayed, submit=0.5, assign=2.0)
    for at in (0.0, 0.3, 2.0, 2.1, 4.5):
        take(replayed, at)
        take(replayed, at, kind=ASSIGN)
    assert replayed.pacing.buckets == state.pacing.buckets
