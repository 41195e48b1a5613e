"""Events about projects (queues) and the access workers have to them."""

from __future__ import annotations

from tracker.events.base import Event


class ProjectCreated(Event, frozen=True, tag=True):
    project_id: int
    name: str
    clone_url: str
    git_repo: str
    version: str
    priority: int
    motd: str
    public: bool
    hidden: bool
    chain: int
    assign_rate: float
    submit_rate: float
    webhook_secret: str
    creator: int = 0  # manager id, 0 when created by the system (tests, fixtures)

    secret_fields = ("webhook_secret",)


class ProjectUpdated(Event, frozen=True, tag=True):
    """A full replacement of the editable settings, as ``/project/update`` sends them."""

    project_id: int
    name: str
    clone_url: str
    git_repo: str
    version: str
    priority: int
    motd: str
    public: bool
    hidden: bool
    chain: int
    paused: bool
    assign_rate: float
    submit_rate: float


class ProjectSecretSet(Event, frozen=True, tag=True):
    project_id: int
    secret: str

    secret_fields = ("secret",)


class WebhookSecretSet(Event, frozen=True, tag=True):
    project_id: int
    webhook_secret: str

    secret_fields = ("webhook_secret",)


class ProjectVersionPushed(Event, frozen=True, tag=True):
    """A signed git push moved the tracked branch: workers see the new version."""

    project_id: int
    version: str


class AccessRequested(Event, frozen=True, tag=True):
    worker_id: int
    project_id: int
    assign: bool
    submit: bool


class AccessGranted(Event, frozen=True, tag=True):
    worker_id: int
    project_id: int


class AccessRevoked(Event, frozen=True, tag=True):
    """A pending request was rejected or a granted access removed."""

    worker_id: int
    project_id: int
