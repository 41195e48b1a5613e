"""Project list, new project, edit project, and the project's secrets.

Every change is the API's command (``CreateProject``, ``UpdateProject``, ``SetProjectSecret``,
``SetWebhookSecret``) with the logged-in manager as actor, refused by its decider; who may read
what is the API's rule (``tracker.queries``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tracker.commands.authz import ROLE_SECRET
from tracker.commands.project_admin import (
    SetProjectSecret,
    SetWebhookSecret,
    UpdateProject,
    UpdateSettings,
)
from tracker.commands.projects import CreateProject, ProjectSettings
from tracker.http import context
from tracker.projections.projects import Project, ProjectView
from tracker.queries import projects, roles
from tracker.ui import render

routes = web.RouteTableDef()


def visible_projects(request: web.Request) -> list[ProjectView]:
    return projects.visible(context.tracker(request).state, context.caller(request))


def readable_project(request: web.Request) -> Project:
    """The project of the path, if the caller may read it (the API's ``/project/get`` rule)."""
    project_id = render.form_int(request.match_info, "id", 0, 1)
    state, caller = context.tracker(request).state, context.caller(request)
    return projects.readable(state, caller, project_id, "You may not read this project")


@routes.get("/ui/projects")
async def project_list(request: web.Request) -> web.Response:
    return render.page(request, "projects.html", {"projects": visible_projects(request)})


def _settings(form: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": render.form_text(form, "name").strip(),
        "clone_url": render.form_text(form, "clone_url").strip(),
        "git_repo": render.form_text(form, "git_repo").strip(),
        "version": render.form_text(form, "version").strip(),
        "chain": render.form_int(form, "chain"),
        "public": form.get("public") == "on",
    }


@routes.get("/ui/new_project")
async def new_project_page(request: web.Request) -> web.Response:
    render.require_login(request)
    return render.page(request, "new_project.html", {"projects": visible_projects(request)})


@routes.post("/ui/new_project")
async def new_project(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    form = await request.post()
    fields = _settings(form)
    if not fields["git_repo"]:
        fields["git_repo"] = git_repo_of(fields["clone_url"])
    command = CreateProject(
        manager_id=manager.id, settings=ProjectSettings(**fields), webhook_secret=str(uuid.uuid4())
    )
    events = await context.tracker(request).execute(command)
    project_id = events[0].project_id  # type: ignore[attr-defined]
    raise render.redirect(f"/ui/project/{project_id}", "Project created")


def git_repo_of(clone_url: str) -> str:
    """``owner/repo`` from a clone URL's last two path parts, as the original UI filled it."""
    parts = [part for part in clone_url.rstrip("/").removesuffix(".git").split("/") if part]
    return "/".join(parts[-2:]) if len(parts) >= 2 and "://" in clone_url else ""


@routes.get("/ui/project/{id}/edit")
async def edit_page(request: web.Request) -> web.Response:
    render.require_login(request)
    project = readable_project(request)
    others = [p for p in visible_projects(request) if p.id != project.view.id]
    return render.page(request, "edit_project.html", {"project": project.view, "projects": others})


@routes.post("/ui/project/{id}/edit")
async def edit(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    project = readable_project(request)
    form = await request.post()
    fields = _settings(form)
    if not manager.tracker_admin:  # the checkbox is disabled, so not sent: keep the value
        fields["public"] = project.view.public
    settings = UpdateSettings(
        **fields,
        motd=render.form_text(form, "motd"),
        hidden=form.get("hidden") == "on",
        assign_rate=render.form_float(form, "assign_rate"),
        submit_rate=render.form_float(form, "submit_rate"),
        priority=project.view.priority,
        paused=project.view.paused,
    )
    await context.tracker(request).execute(
        UpdateProject(manager_id=manager.id, project=project.view.id, settings=settings)
    )
    raise render.redirect(f"/ui/project/{project.view.id}", "Saved")


@routes.get("/ui/project/{id}/secret")
async def secret_page(request: web.Request) -> web.Response:
    render.require_login(request)
    project = readable_project(request)
    roles.require_role(context.tracker(request).state, context.caller(request), project.view.id,
                       ROLE_SECRET)  # fmt: skip
    return render.page(request, "secret.html", {"project": project})


@routes.post("/ui/project/{id}/secret")
async def set_secret(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    project = readable_project(request)
    form = await request.post()
    tracker = context.tracker(request)
    if "webhook_secret" in form:
        await tracker.execute(
            SetWebhookSecret(
                manager_id=manager.id,
                project=project.view.id,
                webhook_secret=render.form_text(form, "webhook_secret"),
            )
        )
    else:
        await tracker.execute(
            SetProjectSecret(
                manager_id=manager.id,
                project=project.view.id,
                secret=render.form_text(form, "secret"),
            )
        )
    raise render.redirect(f"/ui/project/{project.view.id}/secret", "Saved")
