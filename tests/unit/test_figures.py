"""The dashboard's recent figures and timeline, folded from timed events
(``tracker.queries.figures``): a rate over the stated window, no ETA when nothing closes, the
share of failed releases, a timeline of bounded size over any range."""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.test_monitoring_projection import START, fold
from tracker.events.tasks import Outcome
from tracker.projections.state import State
from tracker.queries import figures

I = 60  # noqa: E741  (the snapshot interval of these tests, as in test_monitoring_projection)


def closing(first: int, count: int, t: float, outcome: Outcome = Outcome.CLOSED,
            result: int = 0) -> tuple[float, list]:  # fmt: skip
    """``count`` tasks from ``first`` on, submitted earlier, taken and released at ``t``."""
    ids = range(first, first + count)
    return t, [event for i in ids for event in (given.assigned(i, 1, at=t),
               given.released(i, 1, outcome, result=result))]  # fmt: skip


def workshop(tasks: int) -> tuple[float, list]:
    return START + 1, [
        *given.workshop(workers=1),
        *(given.submitted(i) for i in range(1, tasks + 1)),
    ]


def test_the_rate_is_what_closed_in_the_window_over_its_length() -> None:
    state = fold(workshop(100), closing(1, 30, START + 700), closing(31, 10, START + 1190))
    now = START + 1200.0
    recent = figures.recent(state.monitoring, 1, now)
    # The window starts at the newest boundary at least 300 s ago: START + 900.
    assert (recent.since, recent.closed) == (START + 900, 10)
    assert recent.seconds == 300 and recent.closed_per_second == pytest.approx(10 / 300)
    assert figures.eta_seconds(60, recent.closed_per_second) == pytest.approx(1800)


def test_what_closed_since_the_last_boundary_counts_too() -> None:
    state = fold(workshop(10), closing(1, 3, START + 1199.5))
    recent = figures.recent(state.monitoring, 1, START + 1199.9)
    assert recent.closed == 3 and recent.releases == 3


def test_a_window_in_which_nothing_closed_has_no_rate_and_no_eta() -> None:
    # 30 closed long ago (an average over all time would still say they are closing).
    state = fold(workshop(100), closing(1, 30, START + 100))
    recent = figures.recent(state.monitoring, 1, START + 1200.0)
    assert recent.closed == 0 and recent.closed_per_second == 0.0
    assert figures.eta_seconds(70, recent.closed_per_second) is None
    assert recent.failure_share is None  # nothing released either


def test_a_window_not_on_a_boundary_is_stated_as_its_real_length() -> None:
    state = fold(workshop(10), closing(1, 4, START + 950))
    recent = figures.recent(state.monitoring, 1, START + 1230.0)  # 300 s back: START + 930
    assert recent.since == START + 900 and recent.seconds == 330
    assert recent.closed_per_second == pytest.approx(4 / 330)


def test_the_failure_share_counts_retries_and_final_failures_among_all_releases() -> None:
    state = fold(
        workshop(10),
        closing(1, 6, START + 1000),
        closing(7, 1, START + 1000, Outcome.RETRY, result=1),
        closing(8, 1, START + 1000, Outcome.FAILED, result=1),
        closing(9, 2, START + 1000, Outcome.SKIPPED, result=2),
    )
    recent = figures.recent(state.monitoring, 1, START + 1200.0)
    assert (recent.releases, recent.failures) == (10, 2)
    assert recent.failure_share == pytest.approx(0.2)


def test_the_wire_counts_stay_the_five_of_the_original() -> None:
    state = fold(workshop(3), closing(1, 1, START + 100, Outcome.RETRY, result=1))
    assert state.monitoring.counts(1) == [3, 0, 0, 1, 0]
    assert state.monitoring.latest(1, START + 200).new_task_count == 3


def test_a_young_project_counts_from_its_creation() -> None:
    state = fold(workshop(10), closing(1, 5, START + 20))  # before its first boundary
    recent = figures.recent(state.monitoring, 1, START + 200.0)
    assert recent.since == START + 1 and recent.closed == 5
    assert recent.closed_per_second == pytest.approx(5 / 199)


def test_an_unknown_project_has_nothing_closing() -> None:
    recent = figures.recent(State().monitoring, 9, 1000.0)
    assert recent.closed_per_second == 0.0 and recent.failure_share is None


@pytest.mark.parametrize("span", [3600, 6 * 3600, 7 * 86_400, 0])
def test_a_timeline_has_at_most_its_points_over_any_range(span: int) -> None:
    state = fold(workshop(10), closing(1, 2, START + 400), interval=I, history=30 * 86_400)
    now = START + 8 * 86_400.0
    line = figures.timeline(state.monitoring, 1, now, span)
    assert 1 < len(line.times) <= figures.MOST_POINTS
    assert line.times == sorted(line.times) and line.times[-1] == now // I * I
    assert line.times[0] >= now - (span or 30 * 86_400) - I
    assert line.closed[-1] == 2 and len(line.failure_share) == len(line.times)


def test_the_timeline_shows_the_failure_share_between_its_points() -> None:
    state = fold(
        workshop(10),
        closing(1, 3, START + 130),
        closing(4, 1, START + 130, Outcome.FAILED, result=1),
        interval=I,
    )
    line = figures.timeline(state.monitoring, 1, START + 240.0, 3600)
    shares = dict(zip(line.times, line.failure_share, strict=True))
    assert shares[START + 180] == pytest.approx(0.25)  # 1 of 4 releases in (120, 180]
    assert shares[START + 240] is None  # nothing released in (180, 240]


def test_a_young_projects_timeline_spans_its_life_at_every_boundary() -> None:
    state = fold(workshop(10), closing(1, 2, START + 100), interval=I)
    line = figures.timeline(state.monitoring, 1, START + 600.0, 7 * 86_400)
    assert line.times == list(range(START + 60, START + 601, I))  # not one point in 7 days
    assert line.closed[0] == 0 and line.closed[-1] == 2
