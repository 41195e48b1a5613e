"""Token buckets of capacity one, on a clock the test passes in (``tracker/ratelimit.py``)."""

from __future__ import annotations

import pytest

from tracker.commands.base import UNLIMITED
from tracker.ratelimit import RateLimiter

T = 1_700_000_000.0


def take(limiter: RateLimiter, at: float, n: int = 1, rate: float = 2.0, project: int = 1,
         kind: str = "submit") -> float:  # fmt: skip
    return limiter.take(project, kind, rate, n, T + at)


def test_the_second_request_inside_the_window_waits_for_the_refill() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0) == 0.0
    assert take(limiter, 0) == 0.5  # rate 2: one token every half second
    assert take(limiter, 0.25) == 0.25  # the wait shrinks as time passes; a refusal costs nothing
    assert take(limiter, 0.5) == 0.0
    assert take(limiter, 0.5) == 0.5


def test_a_fractional_rate_means_one_token_every_several_seconds() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0, rate=0.5) == 0.0
    assert take(limiter, 1, rate=0.5) == 1.0
    assert take(limiter, 2, rate=0.5) == 0.0


def test_tokens_do_not_pile_up_beyond_one() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0) == 0.0
    assert take(limiter, 100) == 0.0  # a long pause still leaves one token only
    assert take(limiter, 100) == 0.5


def test_a_bulk_is_admitted_when_the_bucket_is_full_and_leaves_a_debt() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0, n=5, rate=1.0) == 0.0  # the original refused this forever
    assert take(limiter, 0, rate=1.0) == 5.0  # four tokens owed, then one to fill up
    assert take(limiter, 4.5, rate=1.0) == 0.5
    assert take(limiter, 5, rate=1.0) == 0.0


def test_a_bulk_waits_until_the_bucket_is_full_not_until_it_holds_n_tokens() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0, rate=1.0) == 0.0
    assert take(limiter, 0.25, n=10, rate=1.0) == 0.75
    assert take(limiter, 1, n=10, rate=1.0) == 0.0
    assert take(limiter, 1, rate=1.0) == 10.0


def test_an_unlimited_rate_never_limits_even_a_bulk() -> None:
    limiter = RateLimiter()
    for _ in range(3):
        assert take(limiter, 0, n=1000, rate=UNLIMITED) == 0.0


def test_a_new_rate_starts_a_full_bucket_and_the_same_rate_keeps_its_debt() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0, rate=0.1) == 0.0
    assert take(limiter, 1, rate=0.1) == pytest.approx(9.0)
    assert take(limiter, 1, rate=1.0) == 0.0  # the project was updated to a new rate
    assert take(limiter, 1, rate=1.0) == 1.0
    assert take(limiter, 1.5, rate=1.0) == 0.5  # same rate: same bucket


def test_projects_and_kinds_have_their_own_buckets() -> None:
    limiter = RateLimiter()
    assert take(limiter, 0, project=1) == 0.0
    assert take(limiter, 0, project=2) == 0.0
    assert take(limiter, 0, project=1, kind="assign") == 0.0
    assert take(limiter, 0, project=1) == 0.5


def test_a_clock_that_steps_back_neither_refills_nor_drains() -> None:
    limiter = RateLimiter()
    assert take(limiter, 10) == 0.0
    assert take(limiter, 9) == 0.5  # a second back: still half a second to wait from the top
    assert take(limiter, 10.5) == 0.0
