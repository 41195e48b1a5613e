"""Commands that create and administer projects."""

from __future__ import annotations

from tracker.commands.base import INT32_MAX, UNLIMITED, Command
from tracker.errors import TrackerError
from tracker.events.base import Event, manager_actor
from tracker.events.managers import ProjectRoleSet
from tracker.events.projects import ProjectCreated
from tracker.projections.state import State

ROLE_READ, ROLE_EDIT, ROLE_MANAGE_ACCESS, ROLE_SECRET, ROLE_MAINTENANCE = 1, 2, 4, 8, 16
ROLE_ALL = 31
MAX_TEXT_BYTES = 4096


class ProjectSettings(Command, frozen=True):
    """The editable fields of a project, as create and update send them."""

    name: str = ""
    clone_url: str = ""
    git_repo: str = ""
    version: str = ""
    priority: int = 0
    motd: str = ""
    public: bool = False
    hidden: bool = False
    chain: int = 0
    assign_rate: float = 0.0
    submit_rate: float = 0.0


class CreateProject(Command, frozen=True):
    manager_id: int
    settings: ProjectSettings
    webhook_secret: str  # drawn by the caller: decide stays pure


class InvalidProject(TrackerError):
    message = "Invalid project"


class ProjectNameTaken(TrackerError):
    message = "A project with this name already exists"


class CreateNotPermitted(TrackerError):
    message = "You are not permitted to create a project with this configuration"


def invalid_reason(settings: ProjectSettings) -> str | None:
    if not settings.name:
        return "name must not be empty"
    if not 0 <= settings.priority <= INT32_MAX:
        return f"priority must be between 0 and {INT32_MAX}"
    if settings.public and settings.hidden:
        return "a project cannot be both public and hidden"
    if settings.assign_rate < 0 or settings.submit_rate < 0:
        return "rates must be >= 0 (0 means unlimited)"
    if not 0 <= settings.chain <= 2**63 - 1:
        return "chain must be a project id or 0"
    texts = (settings.name, settings.clone_url, settings.git_repo, settings.version, settings.motd)
    if any(len(text.encode()) > MAX_TEXT_BYTES for text in texts):
        return f"text fields are limited to {MAX_TEXT_BYTES} bytes"
    return None


def has_role(state: State, manager_id: int, project_id: int, role: int) -> bool:
    manager = state.managers.by_id.get(manager_id)
    if manager is None:
        return False
    return manager.tracker_admin or bool(state.managers.role(manager_id, project_id) & role)


def rate(value: float) -> float:
    return value or UNLIMITED


def create_project(state: State, command: CreateProject, now: float) -> list[Event]:
    settings = command.settings
    reason = invalid_reason(settings)
    if reason:
        raise InvalidProject(f"Invalid project: {reason}")
    manager = state.managers.by_id.get(command.manager_id)
    if manager is None or (settings.public and not manager.tracker_admin):
        raise CreateNotPermitted()
    if settings.chain and (
        state.projects.get(settings.chain) is None
        or not has_role(state, command.manager_id, settings.chain, ROLE_EDIT)
    ):
        raise CreateNotPermitted()
    if settings.name in state.projects.by_name:
        raise ProjectNameTaken()
    project_id, actor = state.projects.next_id, manager_actor(command.manager_id)
    return [
        ProjectCreated(
            at=now, actor=actor, project_id=project_id, name=settings.name,
            clone_url=settings.clone_url, git_repo=settings.git_repo, version=settings.version,
            priority=settings.priority, motd=settings.motd, public=settings.public,
            hidden=settings.hidden, chain=settings.chain,
            assign_rate=rate(settings.assign_rate), submit_rate=rate(settings.submit_rate),
            webhook_secret=command.webhook_secret, creator=command.manager_id,
        ),
        ProjectRoleSet(
            at=now, actor=actor, manager_id=command.manager_id, project_id=project_id,
            role=ROLE_ALL,
        ),
    ]  # fmt: skip


DECIDERS = {CreateProject: create_project}
