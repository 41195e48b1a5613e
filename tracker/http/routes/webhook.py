"""``POST /git/receivehook``: a signed push to the tracked branch sets the project's version.

As in the original, the answer is a bare status with an empty or plain-text body (no JSON
envelope): 200 done, 400 unreadable payload or not the tracked branch, 403 bad signature.
Unlike the original, the signature is checked before the branch, and an unknown repository is
answered like a bad signature, so an unsigned caller learns nothing about what is registered.
Every project of the repository whose webhook secret signs the push is updated, with the
actor ``webhook``.
"""

from __future__ import annotations

import logging

from aiohttp import web

from tracker import webhook
from tracker.commands.project_admin import PushVersion
from tracker.errors import TrackerError
from tracker.http import context, parsing, statuses
from tracker.http.keys import SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _text(status: int, text: str = "") -> web.Response:
    return web.Response(status=status, text=text) if text else web.Response(status=status)


def _parse(body: bytes) -> webhook.Push:
    data = parsing.decode_json(body)
    if isinstance(data, dict):
        data = parsing.normalize(data)
        if isinstance(data.get("repository"), dict):
            data["repository"] = parsing.normalize(data["repository"])
    return parsing.convert(data, webhook.Push)


@routes.post("/git/receivehook")
async def receive_hook(request: web.Request) -> web.Response:
    git = request.app[SETTINGS].git
    try:
        body = await request.read()
        push = _parse(body)
    except web.HTTPRequestEntityTooLarge:
        return _text(413, "Request body too large")
    except TrackerError as exc:
        return _text(400, exc.message)
    state = context.tracker(request).state
    header = request.headers.get(git.webhook_sig_header, "")
    projects = webhook.signed_projects(state, push, header, body, git.webhook_hash)
    if not projects:
        log.warning("webhook signature does not match", extra={"action": "webhook_refused"})
        return _text(403, "Signature does not match")
    if push.ref != webhook.tracked_ref(git.webhook_branch):
        return _text(400, f"Ignored: {push.ref!r} is not {webhook.tracked_ref(git.webhook_branch)}")
    command = PushVersion(projects=[project.id for project in projects], version=push.after)
    try:
        await context.tracker(request).execute(command)
    except TrackerError as exc:
        return _text(statuses.status_of(exc), exc.message)
    return _text(200)
