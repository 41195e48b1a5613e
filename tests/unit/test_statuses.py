"""One table gives each refusal its HTTP status; a few routes answer a rule as the original
did there (behavior.md 13.7, 13.8)."""

from __future__ import annotations

import pytest

from tracker.commands.tasks import NoTaskAvailable, WorkerPaused
from tracker.errors import NotFound, RateLimited, TrackerError, Unauthenticated, Unauthorized
from tracker.http.auth import WorkerAuthFailed
from tracker.http.statuses import status_of


@pytest.mark.parametrize(
    ("error", "route", "status"),
    [
        (WorkerAuthFailed("invalid secret"), "/task/submit", 401),
        (WorkerAuthFailed("invalid secret"), "/task/get/{project}", 403),
        (WorkerAuthFailed("invalid secret"), "/task/release", 403),
        (Unauthorized(), "/manager/promote/{id}", 401),
        (Unauthorized(), "/manager/demote/{id}", 403),
        (Unauthenticated(), "/manager/demote/{id}", 401),
        (NoTaskAvailable(), "/task/get/{project}", 200),
        (WorkerPaused(), "/task/get/{project}", 400),
        (RateLimited(1.0), "/task/submit", 429),
        (NotFound(), "", 404),
    ],
)
def test_a_refusal_is_answered_with_its_status(
    error: TrackerError, route: str, status: int
) -> None:
    assert status_of(error, route) == status


def test_a_new_rule_answers_like_its_kind() -> None:
    class NoSuchThing(NotFound):
        message = "No such thing"

    class NotYours(Unauthorized):
        message = "Not yours"

    assert (status_of(NoSuchThing()), status_of(NotYours())) == (404, 403)
    assert status_of(NotYours(), "/manager/promote/{id}") == 401
