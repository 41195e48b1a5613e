"""The web UI through the real app (no browser): the ``/`` redirect, security headers, CSRF
and Origin refusals that append nothing, and no 5xx for bad input on any UI route."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from aiohttp import ClientResponse

from tests.ui.http import page, send, token_of
from tests.unit import given
from tests.waiting import eventually, suspended_count
from tests.world import COOKIE, PASSWORD, Caller, MakeClient, World
from tracker import config
from tracker.audit.runtime import AuditServices
from tracker.bootstrap import LOG_FILE
from tracker.events.base import Event
from tracker.events.sqlite import SQLiteEventStore
from tracker.ui.background import BACKGROUND
from tracker.ui.views import audit

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("*/*", False),
        ("", False),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0", False),
    ],
)
async def test_a_browser_asking_for_root_is_sent_to_the_ui_and_api_clients_get_json(
    bare_world: World, accept: str, html: bool
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await bare_world.client.get("/", headers=headers, allow_redirects=False)
    if html:
        assert response.status == 302
        assert response.headers["Location"] == "/ui/"
    else:
        assert response.status == 200
        answer = await response.json()
        assert answer["ok"] is True
        assert answer["content"]["name"] == "task_tracker"


@pytest.mark.parametrize("path", ["/ui/", "/ui/login", "/ui/projects", "/ui/workers", "/ui/nope"])
async def test_every_page_sends_a_csp_that_allows_no_inline_script(
    bare_world: World, path: str
) -> None:
    response = await bare_world.client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


async def test_static_files_are_served_with_cache_headers(bare_world: World) -> None:
    html = await page(bare_world.anonymous, "/ui/")
    src = re.search(r'src="(/ui/static/vendor/htmx/htmx.min.js\?v=[0-9a-f]+)"', html)
    assert src
    response = await bare_world.client.get(src.group(1))
    assert response.status == 200
    assert "max-age=" in response.headers["Cache-Control"]
    assert "htmx" in await response.text()


async def test_the_ui_login_sets_the_api_session_cookie_httponly_and_samesite(
    world: World,
) -> None:
    login_page = await send(world.anonymous, "GET", "/ui/login")  # a visitor: no session
    assert login_page.status == 200
    token = token_of(await login_page.text())
    browser = login_page.cookies["tt_ui"].coded_value  # the token is bound to it before login
    response = await send(
        world.anonymous,
        "POST",
        "/ui/login",
        data={"username": "admin", "password": PASSWORD, "csrf": token},
        cookies=f"tt_ui={browser}",
    )
    assert response.status == 303 and response.headers["Location"] == "/ui/account"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("tt="))
    assert "tt=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    admin = Caller(world, "admin", cookie=response.cookies[COOKIE].value)
    assert "admin" in await page(admin, "/ui/account")
    account = await admin.get("/account")  # the API knows the same session
    assert account["content"]["manager"]["username"] == "admin"


async def _create_form(manager: Caller, extra: dict[str, str]) -> ClientResponse:
    return await send(manager, "POST", "/ui/new_project", data={"name": "sneaky", **extra})


async def test_a_form_without_its_csrf_token_is_refused_and_appends_nothing(
    world: World,
) -> None:
    before = world.position()
    for extra in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
        response = await _create_form(world.admin, extra)
        assert response.status == 403
        assert "expired" in await response.text()
    assert world.position() == before
    assert "sneaky" not in world.tracker.state.projects.by_name


async def test_a_form_from_another_origin_is_refused_even_with_a_valid_token(
    world: World,
) -> None:
    token = token_of(await page(world.admin, "/ui/new_project"))
    before = world.position()
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await send(
            world.admin,
            "POST",
            "/ui/new_project",
            data={"name": "sneaky", "csrf": token},
            headers=headers,
        )
        assert response.status == 403, headers
    assert world.position() == before
    response = await _create_form(world.admin, {"csrf": token})  # the same form from here works
    assert response.status == 303
    assert "sneaky" in world.tracker.state.projects.by_name


async def test_a_token_of_one_session_does_not_work_for_another(world: World) -> None:
    token = token_of(await page(world.admin, "/ui/new_project"))
    again = await world.login("admin")  # a new session: the old token is bound to the old one
    response = await _create_form(again, {"csrf": token})
    assert response.status == 403


async def test_pages_for_managers_send_a_visitor_to_the_login_page(bare_world: World) -> None:
    for path in ("/ui/account", "/ui/new_project", "/ui/logs", "/ui/console", "/ui/events",
                 "/ui/project/1/tasks"):  # fmt: skip
        response = await send(bare_world.anonymous, "GET", path)
        assert response.status == 303 and response.headers["Location"] == "/ui/login", path


BAD_GETS = [
    "/ui/project/0",
    "/ui/project/abc",
    "/ui/project/99999999999999999999999",
    "/ui/project/-1/edit",
    "/ui/project/1/perms?start=-5",
    "/ui/project/1/perms?start=xyz",
    "/ui/project/1?at=yesterday",
    "/ui/project/1?at=99999999999999999999999999",
    "/ui/project/1?at=%00",
    "/ui/project/1/live?after=nope",
    "/ui/project/1/confirm/explode",
    "/ui/task/0",
    "/ui/task/12345",
    "/ui/project/1/tasks?state=nope&limit=0",
    "/ui/project/1/tasks?cursor=%ff%fe&sort=priority",
    "/ui/project/1/tasks?submitted_from=2026-13-45T99:00&priority_max=1e9",
    "/ui/project/abc/tasks",
    "/ui/project/99/tasks",
    "/ui/task?id=abc",
    "/ui/events?project=abc",
    "/ui/events/feed?after=-1",
    "/ui/logs?level=bogus&since=abc",
    "/ui/logs?level=info&after=1:x",
    "/ui/workers?start=-1&info=abc",
    "/ui/workers?info=999999999999999999999999",
    "/ui/managers?start=abc",
    "/ui/lang/xx?back=https://evil.example",
    "/ui/%ff%fe",
    "/ui/static/../../etc/passwd",
]


@pytest.mark.parametrize("logged", [False, True])
async def test_no_ui_route_answers_5xx_to_bad_input(bare_world: World, logged: bool) -> None:
    caller = bare_world.anonymous
    if logged:
        caller = await bare_world.register("admin")
        await bare_world.create_project("p1", by=caller)
    for path in BAD_GETS:
        response = await send(caller, "GET", path)
        text = await response.text()
        assert response.status < 500, (path, response.status, text[:300])
        assert "Traceback" not in text, path
    if logged:
        token = token_of(await page(caller, "/ui/new_project"))
        posts = {
            "/ui/project/1/action/hard_reset_all": {},
            "/ui/project/1/perms/worker": {"worker": "abc", "action": "accept"},
            "/ui/project/1/perms/manager": {"manager": "-3"},
            "/ui/project/1/edit": {"name": "x" * 100_000, "assign_rate": "fast"},
            "/ui/project/abc/secret": {"secret": "s"},
            "/ui/console": {"project": "1", "worker": "77", "priority": "999999"},
            "/ui/workers/pause": {"worker": "0"},
            "/ui/managers/admin": {"manager": "99"},
            "/ui/new_project": {"name": "", "chain": "1e9"},
        }
        before = bare_world.position()
        for path, data in posts.items():
            response = await send(caller, "POST", path, data={**data, "csrf": token})
            text = await response.text()
            assert response.status < 500, (path, response.status, text[:300])
            assert "Traceback" not in text, path
        assert bare_world.position() == before


async def test_a_refusal_after_a_form_comes_back_as_a_message_on_the_page(
    world: World,
) -> None:
    token = token_of(await page(world.admin, "/ui/new_project"))
    refused = await send(world.admin, "POST", "/ui/new_project", data={"name": "", "csrf": token})
    # followed as a browser follows it: the snackbar travels in the cookie the redirect sets
    flash = refused.cookies["tt_flash"].coded_value
    response = await send(
        world.admin, "GET", refused.headers["Location"], cookies=f"tt_flash={flash}"
    )
    assert response.status == 200 and str(response.url).endswith("/ui/new_project")
    assert 'class="snackbar error"' in await response.text()


async def test_french_comes_from_accept_language_and_the_switch(bare_world: World) -> None:
    visitor = bare_world.anonymous
    answer = await visitor.get("/ui/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert "Projets" in answer.body
    response = await send(visitor, "GET", "/ui/lang/en?back=/ui/projects")
    assert response.headers["Location"] == "/ui/projects"
    answer = await visitor.get("/ui/", headers={"Accept-Language": "fr", "Cookie": "tt_lang=en"})
    assert "Projets" not in answer.body and "Projects" in answer.body


async def test_a_manager_who_is_not_admin_edits_a_public_project_without_unpublishing_it(
    world: World,
) -> None:
    project = await world.create_project("pub", public=True)
    bob = await world.register("bob")
    assert (await world.set_role(project, bob, 3)).status == 200
    html = await page(bob, f"/ui/project/{project}/edit")
    assert 'id="f-public" name="public" checked disabled' in html
    data = {"name": "pub", "motd": "hello", "csrf": token_of(html)}  # a disabled box is not sent
    response = await send(bob, "POST", f"/ui/project/{project}/edit", data=data)
    assert response.status == 303
    view = world.tracker.state.projects.by_id[project].view
    assert (view.motd, view.public) == ("hello", True)


async def test_the_edit_form_keeps_a_chain_to_a_project_the_editor_cannot_see(
    world: World,
) -> None:
    hidden = await world.create_project("secret-target", hidden=True)
    project = await world.create_project("source", chain=hidden)
    bob = await world.register("bob")
    assert (await world.set_role(project, bob, 3)).status == 200
    html = await page(bob, f"/ui/project/{project}/edit")
    assert f'<option value="{hidden}" selected>#{hidden}</option>' in html
    assert "secret-target" not in html


async def test_a_long_task_history_pages_through_every_event(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.ui.views import audit

    monkeypatch.setattr(audit, "HISTORY_PAGE", 2)  # a short page, so a few events need paging
    await world.submit("r")
    for _ in range(2):
        task = (await world.task())["id"]
        await world.release(task, 2)  # SKIP: back to the queue
    seen, path = [], f"/ui/task/{task}"
    while path:
        html = await page(world.admin, path)
        seen += [int(p) for p in re.findall(r'<span class="pos">#(\d+)</span>', html)]
        found = re.search(r'id="history-next" href="([^"]+)"', html)
        path = found.group(1) if found else ""
    history = await world.admin.get(f"/task/history/{task}", status=200)
    assert seen == [e["position"] for e in history["content"]["events"]] and len(seen) == 5


async def test_the_dashboard_lists_the_latest_tasks_of_each_status_closed_ones_included(
    world: World,
) -> None:
    for n in range(4):
        await world.submit(f"r{n}")
    closed = []
    for _ in range(2):
        closed.append((await world.assign())["content"]["task"]["id"])
        await world.release(closed[-1], 0)
    held = (await world.assign())["content"]["task"]["id"]
    html = await page(world.admin, f"/ui/project/{world.project}")
    latest = html[html.index('class="latest"') :]
    expected = (("Queued", [4]), ("Assigned", [held]), ("Closed", closed[::-1]))  # newest first
    for status, ids in expected:
        line = latest[latest.index(f"<strong>{status}</strong>") :].split("</p>", 1)[0]
        assert [int(t) for t in re.findall(r'href="/ui/task/(\d+)"', line)] == ids, line


async def test_shutting_down_mid_verification_ends_it_cleanly(
    make_client: MakeClient, settings: config.Settings
) -> None:
    """The Verify button's walk of the log belongs to the app: stopping the app cancels it
    and waits for it, before the log reader it reads through is closed."""
    events: list[Event] = [*given.project(1)]
    events += [given.submitted(task_id, 1) for task_id in range(1, 100_001)]
    await _write_log(Path(settings.database.data_dir), events)
    world = await World.start(make_client)
    admin = await world.register("admin")
    app = world.client.server.app
    verification, background = app[audit.VERIFICATION], app[BACKGROUND]
    form = await page(admin, "/ui/audit")
    answer = await send(admin, "POST", "/ui/audit/verify", data={"csrf": token_of(form)})
    assert answer.status == 303
    (walk,) = background.running
    deadline = asyncio.get_running_loop().time() + 20
    while verification.checked == 0:  # the walk has read its first batch
        assert asyncio.get_running_loop().time() < deadline, "the verification never started"
        await asyncio.sleep(0.001)
    assert verification.running and verification.checked < len(events) + 1, "it already ended"
    await world.client.close()  # the app's shutdown, as SIGTERM does in tracker serve
    assert walk.cancelled() and background.running == []
    assert not verification.running and verification.report is None and not verification.error


async def _write_log(data_dir: Path, events: list[Event]) -> None:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    store = await SQLiteEventStore.open(data_dir / LOG_FILE)
    try:
        head = 0
        for start in range(0, len(events), 10_000):
            head = await store.append(events[start : start + 10_000], head)
    finally:
        await store.close()


async def test_a_task_taken_kept_and_released_in_batches_reads_as_its_own_story(
    world: World,
) -> None:
    for n in range(4):
        await world.submit(f"r{n}", max_retries=3)
    taken = [t["id"] for t in (await world.take(3)).content["tasks"]]
    await world.touch(taken[0], seconds=600)
    failed = {"task_id": taken[1], "result": 1, "reason": "KeyError: 'url'"}
    await world.release_all((taken[0], 0), failed, (taken[2], 0))
    html = await page(world.admin, f"/ui/task/{taken[1]}")
    assert f"Assigned to worker #{world.worker.id}" in html
    assert f"Released FAIL by worker #{world.worker.id}: retry" in html
    kept = await page(world.admin, f"/ui/task/{taken[0]}")
    assert f"Kept alive by worker #{world.worker.id}" in kept
    dashboard = await page(world.admin, f"/ui/project/{world.project}")
    latest = dashboard[dashboard.index('class="latest"') :]
    line = latest[latest.index("<strong>Closed</strong>") :].split("</p>", 1)[0]
    assert [int(t) for t in re.findall(r'href="/ui/task/(\d+)"', line)] == [taken[2], taken[0]]
    events = await page(world.admin, f"/ui/events?task={taken[2]}")
    assert "TasksAssigned" in events and "TasksReleased" in events


async def test_the_task_list_is_for_those_who_may_read_the_history(world: World) -> None:
    assert (await world.submit("<b>recipe</b>")).ok
    carol = await world.register("carol")
    path = f"/ui/project/{world.project}/tasks"

    listed = await page(world.admin, path)
    assert 'href="/ui/task/1"' in listed and "&lt;b&gt;recipe&lt;/b&gt;" in listed
    refused = await page(carol, path, status=403)
    assert "Read role" in refused
    kept = await page(world.admin, f"{path}?state=done&recipe=kept")
    assert 'id="filter-error"' in kept and "State must be one of" in kept
    assert 'value="kept"' in kept


async def test_a_stopping_app_ends_its_open_long_polls_at_once(world: World) -> None:
    """The API's feed, the Events page's feed and a dashboard's live figures, each waiting for
    a new event, end as the app starts stopping: the stop takes well under their 8-60 s."""
    head = world.position()
    polls = [
        asyncio.create_task(world.admin.get(path))
        for path in (f"/events?after={head}&timeout=60", f"/ui/events/feed?after={head}",
                     f"/ui/project/{world.project}/live?after={head}")
    ]  # fmt: skip
    await eventually(lambda: suspended_count(AuditServices.durable_after) == len(polls),
                     what="the three long polls waiting")  # fmt: skip
    started = time.monotonic()
    await world.client.server.close()  # the app's shutdown, as SIGTERM does in tracker serve
    assert time.monotonic() - started < 1.0  # about 0.15 s here; 8 s and more before
    assert [(await poll).status for poll in polls] == [200, 200, 200]
    await world.client.close()
