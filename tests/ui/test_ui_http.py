"""The web UI through the real app (no browser): the ``/`` redirect, security headers, CSRF
and Origin refusals that append nothing, and no 5xx for bad input on any UI route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Api, MakeClient
from tests.e2e.support import cheap
from tests.world import tracker_of
from tracker import config


@pytest.fixture
async def client(make_client: MakeClient, settings: config.Settings) -> TestClient:
    return await make_client(cheap(settings))


def token_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, (path, response.status, text[:300])
    return text


async def logged_in(client: TestClient) -> Api:
    api = Api(client)
    await api.register("admin")
    return api


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
    client: TestClient, accept: str, html: bool
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await client.get("/", headers=headers, allow_redirects=False)
    if html:
        assert response.status == 302
        assert response.headers["Location"] == "/ui/"
    else:
        assert response.status == 200
        assert await response.json() == {
            "ok": True,
            "content": {"name": "task_tracker", "version": "1.1"},
        }


@pytest.mark.parametrize("path", ["/ui/", "/ui/login", "/ui/projects", "/ui/workers", "/ui/nope"])
async def test_every_page_sends_a_csp_that_allows_no_inline_script(
    client: TestClient, path: str
) -> None:
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


async def test_static_files_are_served_with_cache_headers(client: TestClient) -> None:
    html = await page(client, "/ui/")
    src = re.search(r'src="(/ui/static/vendor/htmx/htmx.min.js\?v=[0-9a-f]+)"', html)
    assert src
    response = await client.get(src.group(1))
    assert response.status == 200
    assert "max-age=" in response.headers["Cache-Control"]
    assert "htmx" in await response.text()


async def test_the_ui_login_sets_the_api_session_cookie_httponly_and_samesite(
    client: TestClient,
) -> None:
    await Api(client).register("admin")
    client.session.cookie_jar.clear()
    token = token_of(await page(client, "/ui/login"))
    response = await client.post(
        "/ui/login",
        data={"username": "admin", "password": "password1", "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/ui/account"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("tt="))
    assert "tt=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "admin" in await page(client, "/ui/account")
    account = await (await client.get("/account")).json()  # the API knows the same session
    assert account["content"]["manager"]["username"] == "admin"


async def _create_form(client: TestClient, extra: dict[str, str]) -> Any:
    return await client.post(
        "/ui/new_project", data={"name": "sneaky", **extra}, allow_redirects=False
    )


async def test_a_form_without_its_csrf_token_is_refused_and_appends_nothing(
    client: TestClient,
) -> None:
    await logged_in(client)
    before = tracker_of(client).state.position
    for extra in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
        response = await _create_form(client, extra)
        assert response.status == 403
        assert "expired" in await response.text()
    assert tracker_of(client).state.position == before
    assert "sneaky" not in tracker_of(client).state.projects.by_name


async def test_a_form_from_another_origin_is_refused_even_with_a_valid_token(
    client: TestClient,
) -> None:
    await logged_in(client)
    token = token_of(await page(client, "/ui/new_project"))
    before = tracker_of(client).state.position
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await client.post(
            "/ui/new_project",
            data={"name": "sneaky", "csrf": token},
            headers=headers,
            allow_redirects=False,
        )
        assert response.status == 403, headers
    assert tracker_of(client).state.position == before
    response = await _create_form(client, {"csrf": token})  # the same form from here works
    assert response.status == 303
    assert "sneaky" in tracker_of(client).state.projects.by_name


async def test_a_token_of_one_session_does_not_work_for_another(client: TestClient) -> None:
    api = await logged_in(client)
    token = token_of(await page(client, "/ui/new_project"))
    await api.login("admin")  # a new session: the old token is bound to the old one
    response = await _create_form(client, {"csrf": token})
    assert response.status == 403


async def test_pages_for_managers_send_a_visitor_to_the_login_page(client: TestClient) -> None:
    for path in ("/ui/account", "/ui/new_project", "/ui/logs", "/ui/console", "/ui/events"):
        response = await client.get(path, allow_redirects=False)
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
async def test_no_ui_route_answers_5xx_to_bad_input(client: TestClient, logged: bool) -> None:
    if logged:
        api = await logged_in(client)
        await api.create_project("p1")
    for path in BAD_GETS:
        response = await client.get(path, allow_redirects=False)
        text = await response.text()
        assert response.status < 500, (path, response.status, text[:300])
        assert "Traceback" not in text, path
    if logged:
        token = token_of(await page(client, "/ui/new_project"))
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
        before = tracker_of(client).state.position
        for path, data in posts.items():
            response = await client.post(path, data={**data, "csrf": token}, allow_redirects=False)
            text = await response.text()
            assert response.status < 500, (path, response.status, text[:300])
            assert "Traceback" not in text, path
        assert tracker_of(client).state.position == before


async def test_a_refusal_after_a_form_comes_back_as_a_message_on_the_page(
    client: TestClient,
) -> None:
    await logged_in(client)
    token = token_of(await page(client, "/ui/new_project"))
    response = await client.post("/ui/new_project", data={"name": "", "csrf": token})
    assert response.status == 200 and str(response.url).endswith("/ui/new_project")
    assert 'class="snackbar error"' in await response.text()


async def test_french_comes_from_accept_language_and_the_switch(client: TestClient) -> None:
    response = await client.get("/ui/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert "Projets" in await response.text()
    response = await client.get("/ui/lang/en?back=/ui/projects", allow_redirects=False)
    assert response.headers["Location"] == "/ui/projects"
    client.session.cookie_jar.update_cookies({"tt_lang": "en"})
    response = await client.get("/ui/", headers={"Accept-Language": "fr"})
    assert "Projets" not in await response.text() and "Projects" in await response.text()


async def test_a_manager_who_is_not_admin_edits_a_public_project_without_unpublishing_it(
    client: TestClient,
) -> None:
    api = await logged_in(client)
    project = await api.create_project("pub", public=True)
    await api.register("bob")
    await api.login("admin")
    await api.call("POST", f"/manager/set_role_for_project/{project}",
                   {"manager": 2, "role": 3}, status=200)  # fmt: skip
    await api.login("bob")
    html = await page(client, f"/ui/project/{project}/edit")
    assert 'id="f-public" name="public" checked disabled' in html
    data = {"name": "pub", "motd": "hello", "csrf": token_of(html)}  # a disabled box is not sent
    response = await client.post(f"/ui/project/{project}/edit", data=data, allow_redirects=False)
    assert response.status == 303
    view = tracker_of(client).state.projects.by_id[project].view
    assert (view.motd, view.public) == ("hello", True)


async def test_the_edit_form_keeps_a_chain_to_a_project_the_editor_cannot_see(
    client: TestClient,
) -> None:
    api = await logged_in(client)
    hidden = await api.create_project("secret-target", hidden=True)
    project = await api.create_project("source", chain=hidden)
    await api.register("bob")
    await api.login("admin")
    await api.call("POST", f"/manager/set_role_for_project/{project}",
                   {"manager": 2, "role": 3}, status=200)  # fmt: skip
    await api.login("bob")
    html = await page(client, f"/ui/project/{project}/edit")
    assert f'<option value="{hidden}" selected>#{hidden}</option>' in html
    assert "secret-target" not in html


async def test_a_long_task_history_pages_through_every_event(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.ui.views import audit

    monkeypatch.setattr(audit, "HISTORY_PAGE", 2)  # a short page, so a few events need paging
    api = await logged_in(client)
    project = await api.create_project("work")
    worker = await api.create_worker("w")
    await api.grant(worker, project)
    await api.submit(worker, project, "r")
    for _ in range(2):
        task = (await api.assign(worker, project))["content"]["task"]["id"]
        await api.release(worker, task, 2)  # SKIP: back to the queue
    seen, path = [], f"/ui/task/{task}"
    while path:
        html = await page(client, path)
        seen += [int(p) for p in re.findall(r'<span class="pos">#(\d+)</span>', html)]
        found = re.search(r'id="history-next" href="([^"]+)"', html)
        path = found.group(1) if found else ""
    history = await api.call("GET", f"/task/history/{task}", status=200)
    assert seen == [e["position"] for e in history["content"]["events"]] and len(seen) == 5


async def test_the_dashboard_lists_the_latest_tasks_of_each_status_closed_ones_included(
    client: TestClient,
) -> None:
    api = await logged_in(client)
    project = await api.create_project("work")
    worker = await api.create_worker("w")
    await api.grant(worker, project)
    for n in range(4):
        await api.submit(worker, project, f"r{n}")
    closed = []
    for _ in range(2):
        closed.append((await api.assign(worker, project))["content"]["task"]["id"])
        await api.release(worker, closed[-1], 0)
    held = (await api.assign(worker, project))["content"]["task"]["id"]
    html = await page(client, f"/ui/project/{project}")
    latest = html[html.index('class="latest"') :]
    expected = (("Queued", [4]), ("Assigned", [held]), ("Closed", closed[::-1]))  # newest first
    for status, ids in expected:
        line = latest[latest.index(f"<strong>{status}</strong>") :].split("</p>", 1)[0]
        assert [int(t) for t in re.findall(r'href="/ui/task/(\d+)"', line)] == ids, line
