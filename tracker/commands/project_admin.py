"""Commands that administer an existing project: update its settings, set its secrets, and
record a pushed version (the git webhook).

Rules the original did not have (see docs/compatibility.md): an unknown project is 404, not a
phantom; a chain must not lead back to the project, however long the loop; making a project
public needs a tracker admin, as creating one does.
"""

from __future__ import annotations

from tracker.commands.authz import ROLE_EDIT, ROLE_SECRET, has_role, require_role, session_manager
from tracker.commands.base import Command, existing_project
from tracker.commands.projects import (
    MAX_TEXT_BYTES,
    ProjectNameTaken,
    ProjectSettings,
    invalid_reason,
    rate,
)
from tracker.errors import TrackerError, Unauthorized
from tracker.events.base import WEBHOOK, Event, manager_actor
from tracker.events.projects import (
    ProjectSecretSet,
    ProjectUpdated,
    ProjectVersionPushed,
    WebhookSecretSet,
)
from tracker.projections.projects import ProjectView
from tracker.projections.state import State

MAX_SECRET_BYTES = 64 * 1024
MAX_WEBHOOK_SECRET_BYTES = 1024


class UpdateSettings(ProjectSettings, frozen=True):
    """Everything ``/project/update`` replaces: the create fields plus ``paused``."""

    paused: bool = False


class UpdateProject(Command, frozen=True):
    manager_id: int
    project: int
    settings: UpdateSettings


class SetProjectSecret(Command, frozen=True):
    manager_id: int
    project: int
    secret: str


class SetWebhookSecret(Command, frozen=True):
    manager_id: int
    project: int
    webhook_secret: str


class PushVersion(Command, frozen=True):
    """A push to the tracked branch, already authenticated by its HMAC signature."""

    projects: list[int]
    version: str


class InvalidUpdate(TrackerError):
    message = "Invalid request"


class ChainNotPermitted(Unauthorized):
    message = "Unauthorized (You need RoleEdit on the project you wish to chain tasks to)"


class PublicNotPermitted(Unauthorized):
    message = "Unauthorized (only a tracker admin can make a project public)"


class InvalidSecret(TrackerError):
    message = f"Invalid request: secret is limited to {MAX_SECRET_BYTES} bytes"


class InvalidWebhookSecret(TrackerError):
    message = (
        f"Invalid request: webhook_secret must be 1 to {MAX_WEBHOOK_SECRET_BYTES} bytes "
        "(an empty key would let anyone sign pushes)"
    )


def update_invalid_reason(project_id: int, settings: UpdateSettings) -> str | None:
    """Why an update is invalid on its own (before looking at other projects), or None."""
    if settings.chain == project_id:
        return "a project cannot be chained to itself"
    return invalid_reason(settings)


def chain_path(state: State, project_id: int, target: int) -> list[int] | None:
    """The loop ``project → target → ... → project`` that chaining would make, or None."""
    path, seen, current = [project_id], {project_id}, target
    while current:
        path.append(current)
        if current == project_id:
            return path
        if current in seen:
            return None  # a loop elsewhere (never made by this tracker): not through us
        seen.add(current)
        project = state.projects.get(current)
        current = project.view.chain if project else 0
    return None


def _check_chain(state: State, command: UpdateProject, current: int) -> None:
    """A new chain needs an existing target, EDIT on it, and no loop; a kept one is fine."""
    chain = command.settings.chain
    if not chain or chain == current:
        return
    if state.projects.get(chain) is None:
        raise InvalidUpdate(f"Invalid request: the chain target project {chain} does not exist")
    manager = session_manager(state, command.manager_id)
    if not has_role(state, manager.id, chain, ROLE_EDIT):
        raise ChainNotPermitted()
    loop = chain_path(state, command.project, chain)
    if loop:
        arrows = " → ".join(str(p) for p in loop)
        raise InvalidUpdate(f"Invalid request: chaining would make a cycle ({arrows})")


def _view(project_id: int, s: UpdateSettings) -> ProjectView:
    return ProjectView(
        project_id, s.priority, s.name, s.clone_url, s.git_repo, s.version, s.motd, s.public,
        s.hidden, s.chain, s.paused, rate(s.assign_rate), rate(s.submit_rate),
    )  # fmt: skip


def update_project(state: State, command: UpdateProject, now: float) -> list[Event]:
    reason = update_invalid_reason(command.project, command.settings)
    if reason:
        raise InvalidUpdate(f"Invalid request: {reason}")
    project = require_role(state, command.manager_id, command.project, ROLE_EDIT)
    settings = command.settings
    manager = session_manager(state, command.manager_id)
    if settings.public and not project.public and not manager.tracker_admin:
        raise PublicNotPermitted()
    _check_chain(state, command, project.view.chain)
    owner = state.projects.by_name.get(settings.name)
    if owner is not None and owner != command.project:
        raise ProjectNameTaken()
    view = _view(command.project, settings)
    if view == project.view:
        return []
    return [
        ProjectUpdated(
            at=now, actor=manager_actor(command.manager_id), project_id=command.project,
            name=view.name, clone_url=view.clone_url, git_repo=view.git_repo,
            version=view.version, priority=view.priority, motd=view.motd, public=view.public,
            hidden=view.hidden, chain=view.chain, paused=view.paused,
            assign_rate=view.assign_rate, submit_rate=view.submit_rate,
        )
    ]  # fmt: skip


def set_project_secret(state: State, command: SetProjectSecret, now: float) -> list[Event]:
    project = require_role(state, command.manager_id, command.project, ROLE_SECRET)
    if len(command.secret.encode()) > MAX_SECRET_BYTES:
        raise InvalidSecret()
    if project.secret == command.secret:
        return []
    return [
        ProjectSecretSet(
            at=now, actor=manager_actor(command.manager_id), project_id=command.project,
            secret=command.secret,
        )
    ]  # fmt: skip


def set_webhook_secret(state: State, command: SetWebhookSecret, now: float) -> list[Event]:
    project = require_role(state, command.manager_id, command.project, ROLE_SECRET)
    if not 0 < len(command.webhook_secret.encode()) <= MAX_WEBHOOK_SECRET_BYTES:
        raise InvalidWebhookSecret()
    if project.webhook_secret == command.webhook_secret:
        return []
    return [
        WebhookSecretSet(
            at=now, actor=manager_actor(command.manager_id), project_id=command.project,
            webhook_secret=command.webhook_secret,
        )
    ]  # fmt: skip


def push_version(state: State, command: PushVersion, now: float) -> list[Event]:
    if len(command.version.encode()) > MAX_TEXT_BYTES:
        raise InvalidUpdate(f"Invalid request: version is limited to {MAX_TEXT_BYTES} bytes")
    events: list[Event] = []
    for project_id in command.projects:
        project = existing_project(state, project_id)
        if project.view.version != command.version:
            events.append(
                ProjectVersionPushed(
                    at=now, actor=WEBHOOK, project_id=project_id, version=command.version
                )
            )
    return events


DECIDERS = {
    UpdateProject: update_project,
    SetProjectSecret: set_project_secret,
    SetWebhookSecret: set_webhook_secret,
    PushVersion: push_version,
}
