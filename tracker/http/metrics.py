"""``GET /metrics`` in the Prometheus text format, and the middleware that times requests.

Two kinds of numbers, kept apart:

* **From the log** (they survive restarts, because they are folded from events): live tasks by
  project and status, tasks closed per project, verification votes, events by type, and the
  head position of the log (``tracker_events_appended_total``). They are read from the read
  models at scrape time, O(projects + event types), never on the request path.
* **From this process** (they start from zero at each start, as Prometheus counters may): HTTP
  requests and their latencies by route, and group-commit batch sizes.

Every app has its own ``CollectorRegistry`` (no global registry), so several apps can run in
one process. The route label is the route's template (``/task/get/{project}``), never the raw
path, so the number of series stays bounded; unknown paths share the label ``unmatched``.

Who may read it: with ``metrics.token`` unset, anyone, but hidden projects' series are left
out (their names and statistics are not public); a tracker admin session sees everything.
With ``metrics.token`` set, a scrape needs ``Authorization: Bearer <token>`` (compared in
constant time) or a tracker admin session, and sees everything.
"""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from tracker.events.group_commit import BATCH_SIZE_BUCKETS
from tracker.http import context
from tracker.projections.projects import Project
from tracker.queries import auditing
from tracker.service import Tracker

#: One line per request at debug level: method, route template, status, milliseconds.
requests_log = logging.getLogger("tracker.http.requests")

routes = web.RouteTableDef()

UNMATCHED = "unmatched"
# Other methods (WebDAV and the like) share one label: a client cannot mint many series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class RequestMetrics(Collector):
    """The process-local request metrics of one app, in the app's own registry.

    Counted in plain dicts on the request path (a few hundred nanoseconds) and turned into
    Prometheus families only at scrape time: prometheus-client's own counters take a lock
    and cost several microseconds per request, a tenth of the tracker's throughput.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests: dict[tuple[str, str, int], int] = {}
        # (method, route) -> [count per latency bucket (last is +Inf), sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        timer = self.latency.get((method, route))
        if timer is None:
            timer = self.latency[(method, route)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        timer[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        timer[-1] += seconds
        if requests_log.isEnabledFor(logging.DEBUG):  # the request log: no headers, no body
            ms = round(seconds * 1000, 3)
            requests_log.debug("%s %s %d %.3f ms", method, route, status, ms, extra={
                "action": "request", "method": method, "route": route, "status": status,
                "ms": ms})  # fmt: skip

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "tracker_http_requests", "HTTP requests answered, by method, route and status",
            labels=["method", "route", "status"],
        )  # fmt: skip
        for (method, route, status), count in sorted(self.requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "tracker_http_request_duration_seconds", "Time to answer, by method and route",
            labels=["method", "route"],
        )  # fmt: skip
        bounds = [str(float(bound)) for bound in LATENCY_BUCKETS] + ["+Inf"]
        for (method, route), timer in sorted(self.latency.items()):
            cumulative = list(itertools.accumulate(timer[:-1]))
            latency.add_metric([method, route], list(zip(bounds, cumulative, strict=True)),
                               sum_value=timer[-1])  # fmt: skip
        yield latency


METRICS = web.AppKey("metrics", RequestMetrics)


def route_label(request: web.Request) -> str:
    """The route's template (``/task/get/{project}``), ``unmatched`` for unknown paths."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


class LogCollector(Collector):
    """The numbers folded from the log, read from the tracker's read models at scrape time."""

    def __init__(self, tracker: Tracker, projects: list[Project]) -> None:
        self.tracker = tracker
        self.projects = projects  # the ones the scraper may see

    def collect(self) -> Iterator[Metric]:
        yield from self._projects()
        state, writer = self.tracker.state, self.tracker.writer
        events = CounterMetricFamily("tracker_events", "Events in the log, by type",
                                     labels=["type"])  # fmt: skip
        for name, count in sorted(state.event_counts.by_type.items()):
            events.add_metric([name], count)
        yield events
        yield CounterMetricFamily(
            "tracker_events_appended", "Events durably appended to the log (its head position)",
            value=writer.durable_position,
        )  # fmt: skip
        yield GaugeMetricFamily("tracker_workers", "Workers", value=len(state.workers.by_id))
        yield GaugeMetricFamily("tracker_projects", "Projects", value=len(state.projects.by_id))
        yield self._batches()

    def _projects(self) -> Iterator[Metric]:
        state = self.tracker.state
        labels = ["project_id", "project"]
        tasks = GaugeMetricFamily(
            "tracker_tasks", "Live tasks by project and status (queued, assigned, failed)",
            labels=labels + ["status"],
        )  # fmt: skip
        closed = CounterMetricFamily("tracker_tasks_closed", "Tasks closed, by project",
                                     labels=labels)  # fmt: skip
        votes = GaugeMetricFamily("tracker_verification_votes", "Verification votes on live "
                                  "tasks, by project", labels=labels)  # fmt: skip
        access = GaugeMetricFamily("tracker_worker_access", "Worker access records (pending "
                                   "included), by project", labels=labels)  # fmt: skip
        for project in self.projects:
            ids = [str(project.id), project.view.name]
            board = state.tasks.projects.get(project.id)
            queued, assigned, failed = (
                (board.queue.size, len(board.assigned), len(board.failed)) if board else (0, 0, 0)
            )
            for status, count in (("queued", queued), ("assigned", assigned), ("failed", failed)):
                tasks.add_metric(ids + [status], count)
            closed.add_metric(ids, project.closed_task_count)
            votes.add_metric(ids, board.votes if board else 0)
            access.add_metric(ids, state.access.count_by_project.get(project.id, 0))
        yield from (tasks, closed, votes, access)

    def _batches(self) -> Metric:
        sizes = self.tracker.writer.batch_sizes
        buckets, running = [], 0
        for bound, count in zip(BATCH_SIZE_BUCKETS, sizes.counts, strict=False):
            running += count
            buckets.append((str(float(bound)), running))
        buckets.append(("+Inf", sizes.batches))
        return HistogramMetricFamily(
            "tracker_commit_batch_size", "Events per group-commit batch (since this start)",
            buckets=buckets, sum_value=sizes.total,
        )  # fmt: skip


@routes.get("/metrics")
async def scrape(request: web.Request) -> web.Response:
    tracker = context.tracker(request)
    projects = auditing.metrics_projects(tracker.state, context.caller(request))
    scrape_registry = CollectorRegistry(auto_describe=False)
    scrape_registry.register(LogCollector(tracker, projects))
    body = generate_latest(request.app[METRICS].registry) + generate_latest(scrape_registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
