"""Project administration routes: full update, the project secret and the webhook secret.

The checks run in the original's order for each route (it differed: the project secret checks
the caller before parsing the body, the webhook secret after).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands.authz import ROLE_SECRET
from tracker.commands.project_admin import (
    SetProjectSecret,
    SetWebhookSecret,
    UpdateProject,
    UpdateSettings,
)
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.queries import roles

routes = web.RouteTableDef()

_BAD_ID = "Invalid project id"


class UpdateBody(UpdateSettings, frozen=True):
    priority: Int64 = 0
    chain: Int64 = 0


class SecretBody(msgspec.Struct):
    secret: str = ""


class WebhookSecretBody(msgspec.Struct):
    webhook_secret: str = ""


@routes.post("/project/update/{id}")
async def update(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", _BAD_ID)
    settings = await parsing.body(request, UpdateBody)
    command = UpdateProject(
        manager_id=context.manager_id(request), project=project_id, settings=settings
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.get("/project/secret/{id}")
async def get_secret(request: web.Request) -> web.Response:
    """Workers with granted assign access read it; so do managers with ROLE_SECRET."""
    project_id = parsing.path_id(request, "id", _BAD_ID)
    state = context.tracker(request).state
    project = roles.secret_reader(state, context.caller(request), project_id)
    return envelope.ok({"secret": project.secret})


@routes.post("/project/secret/{id}")
async def set_secret(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", _BAD_ID)
    caller = context.manager_id(request)

    def command(body: SecretBody) -> SetProjectSecret:
        return SetProjectSecret(manager_id=caller, project=project_id, secret=body.secret)

    body = await context.body_after_caller(request, SecretBody, command)
    await context.tracker(request).execute(command(body))
    return envelope.ok()


@routes.get("/project/webhook_secret/{id}")
async def get_webhook_secret(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", _BAD_ID)
    state = context.tracker(request).state
    project = roles.require_role(state, context.caller(request), project_id, ROLE_SECRET)
    return envelope.ok({"webhook_secret": project.webhook_secret})


@routes.post("/project/webhook_secret/{id}")
async def set_webhook_secret(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", _BAD_ID)
    body = await parsing.body(request, WebhookSecretBody)
    command = SetWebhookSecret(
        manager_id=context.manager_id(request),
        project=project_id,
        webhook_secret=body.webhook_secret,
    )
    await context.tracker(request).execute(command)
    return envelope.ok()
