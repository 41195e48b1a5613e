"""Read model of projects: settings, secrets, the closed counter, and the wire view."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tracker.events import projects as ev
from tracker.events.tasks import Outcome, TaskReleased, TasksReleased


class ProjectView(msgspec.Struct, gc=False):
    """The project object as the API shows it, fields in the original's order."""

    id: int
    priority: int
    name: str
    clone_url: str
    git_repo: str
    version: str
    motd: str
    public: bool
    hidden: bool
    chain: int
    paused: bool
    assign_rate: float
    submit_rate: float


class Project(msgspec.Struct, gc=False):
    view: ProjectView
    secret: str = "{}"
    webhook_secret: str = ""
    closed_task_count: int = 0
    creator: int = 0
    created: float = 0.0

    @property
    def id(self) -> int:
        return self.view.id

    @property
    def hidden(self) -> bool:
        return self.view.hidden

    @property
    def public(self) -> bool:
        return self.view.public

    @property
    def paused(self) -> bool:
        return self.view.paused


class Projects:
    def __init__(self) -> None:
        self.by_id: dict[int, Project] = {}
        self.by_name: dict[str, int] = {}
        self.next_id = 1

    def get(self, project_id: int) -> Project | None:
        return self.by_id.get(project_id)

    def all(self) -> Iterable[Project]:
        return self.by_id.values()


def created(model: Projects, e: ev.ProjectCreated) -> None:
    view = ProjectView(
        e.project_id, e.priority, e.name, e.clone_url, e.git_repo, e.version, e.motd,
        e.public, e.hidden, e.chain, False, e.assign_rate, e.submit_rate,
    )  # fmt: skip
    model.by_id[e.project_id] = Project(
        view, webhook_secret=e.webhook_secret, creator=e.creator, created=e.at
    )
    model.by_name[e.name] = e.project_id
    model.next_id = max(model.next_id, e.project_id + 1)


def updated(model: Projects, e: ev.ProjectUpdated) -> None:
    project = model.by_id[e.project_id]
    del model.by_name[project.view.name]
    project.view = ProjectView(
        e.project_id, e.priority, e.name, e.clone_url, e.git_repo, e.version, e.motd,
        e.public, e.hidden, e.chain, e.paused, e.assign_rate, e.submit_rate,
    )  # fmt: skip
    model.by_name[e.name] = e.project_id


def secret_set(model: Projects, e: ev.ProjectSecretSet) -> None:
    model.by_id[e.project_id].secret = e.secret


def webhook_secret_set(model: Projects, e: ev.WebhookSecretSet) -> None:
    model.by_id[e.project_id].webhook_secret = e.webhook_secret


def version_pushed(model: Projects, e: ev.ProjectVersionPushed) -> None:
    project = model.by_id[e.project_id]
    project.view = msgspec.structs.replace(project.view, version=e.version)


def released(model: Projects, e: TaskReleased) -> None:
    if e.outcome is Outcome.CLOSED:
        model.by_id[e.project_id].closed_task_count += 1


def batch_released(model: Projects, e: TasksReleased) -> None:
    closed = sum(1 for release in e.tasks if release.outcome is Outcome.CLOSED)
    if closed:
        model.by_id[e.project_id].closed_task_count += closed


HANDLERS = {
    ev.ProjectCreated: created,
    ev.ProjectUpdated: updated,
    ev.ProjectSecretSet: secret_set,
    ev.WebhookSecretSet: webhook_secret_set,
    ev.ProjectVersionPushed: version_pushed,
    TaskReleased: released,
    TasksReleased: batch_released,
}
