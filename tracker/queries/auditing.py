"""Who may read the log: task history, a project's past state, the change feed, digests;
and what ``/metrics`` shows.

- The audit token (``Authorization: Bearer <audit.token>``) or a tracker admin read the whole
  log. A wrong token is refused even beside a valid session, so a misconfigured integration
  learns at once.
- Any other manager reads the history and past state of the projects on which they hold
  ROLE_READ *now*, and in the feed the events that name such a project. Hidden or not makes no
  difference here: history names workers and timings, so it needs the role on every project.
- Workers and anonymous callers read none of it (401).
- ``/metrics``: with ``metrics.token`` unset anyone, without hidden projects' series; with it
  set, the token. A tracker admin always sees everything.
"""

from __future__ import annotations

from tracker.commands.authz import ROLE_READ, has_role
from tracker.errors import Unauthenticated, Unauthorized
from tracker.projections.projects import Project
from tracker.projections.state import State
from tracker.queries.caller import Caller, Token


def require_reader(caller: Caller) -> None:
    """The audit token's holder or a manager; ``Unauthenticated`` (401) otherwise, and for a
    wrong audit token."""
    if caller.audit is Token.WRONG:
        raise Unauthenticated("Invalid audit token")
    if caller.audit is not Token.MATCHED and caller.manager is None:
        raise Unauthenticated()


def reads_everything(caller: Caller) -> bool:
    """The audit token or a tracker admin: the whole log, every project's history."""
    return caller.audit is Token.MATCHED or caller.tracker_admin


def require_everything(caller: Caller) -> None:
    """Only the audit token or a tracker admin (digests, chain verification)."""
    require_reader(caller)
    if not reads_everything(caller):
        raise Unauthorized()


def may_read_history(state: State, caller: Caller, project_id: int) -> bool:
    """Whether the caller may read the history (and past states) of the project's tasks."""
    return reads_everything(caller) or has_role(state, caller.manager_id, project_id, ROLE_READ)


def feed_projects(state: State, caller: Caller) -> set[int] | None:
    """The projects whose events the caller may follow in the feed; None: every event."""
    if reads_everything(caller):
        return None
    return state.managers.projects_of(caller.manager_id, ROLE_READ)


def metrics_projects(state: State, caller: Caller) -> list[Project]:
    """The projects whose series ``/metrics`` shows the caller: every one to a tracker admin
    or the metrics token's holder, those not hidden to anyone while no metrics token is set;
    ``Unauthenticated`` when it is set and the caller has neither."""
    if caller.tracker_admin or caller.metrics is Token.MATCHED:
        return list(state.projects.all())
    if caller.metrics is Token.UNSET:
        return [project for project in state.projects.all() if not project.hidden]
    raise Unauthenticated()
