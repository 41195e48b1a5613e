"""What the UI's pages show a manager: only the actions their roles allow (a forged one is
refused by its decider), refused forms filled back with what was typed, the recent figures
(the same after a restart) and the Events page's links."""

from __future__ import annotations

import base64
import json
import re
from html import unescape as html_unescape

import pytest

from tests.conftest import Clock
from tests.ui.http import page, send, token_of
from tests.world import Caller, World

# A page's actions and the role each one needs (tracker.queries.roles.Allowed).
ROLE_LINKS = {
    "/edit": 2, "/perms": 4, "/secret": 8, "/confirm/reset_failed": 16, "/confirm/reclaim": 16,
    "/confirm/hard_reset": 16, "/action/pause": 2,
}  # fmt: skip


@pytest.mark.parametrize("role", [1, 2, 4, 8, 16, 31])
async def test_the_dashboard_shows_only_the_actions_the_managers_roles_allow(
    world: World, role: int
) -> None:
    bob = await world.register("bob")
    assert (await world.set_role(world.project, bob, role)).status == 200
    html = await page(bob, f"/ui/project/{world.project}")
    shown = {link for link in ROLE_LINKS if f'/ui/project/{world.project}{link}"' in html}
    assert shown == {link for link, needed in ROLE_LINKS.items() if role & needed}
    assert ("Time travel" in html) == bool(role & 1)
    listed = await page(bob, "/ui/projects")
    assert (f"/ui/project/{world.project}/edit" in listed) == bool(role & 2)


async def test_a_forged_action_without_its_role_is_refused_by_its_decider(world: World) -> None:
    await world.submit("r")
    bob = await world.register("bob")
    assert (await world.set_role(world.project, bob, 1 | 2)).status == 200  # read, edit
    html = await page(bob, f"/ui/project/{world.project}")
    assert "hard_reset" not in html
    confirm = await page(bob, f"/ui/project/{world.project}/confirm/hard_reset")
    assert "You need the Maintenance role" in confirm and "/action/hard_reset" not in confirm
    before = world.position()
    forged = await send(bob, "POST", f"/ui/project/{world.project}/action/hard_reset",
                        data={"csrf": token_of(html)})  # fmt: skip
    assert forged.status == 303
    assert "error" in base64.urlsafe_b64decode(forged.cookies["tt_flash"].value).decode()
    assert world.position() == before
    assert world.tracker.state.monitoring.counts(world.project)[0] == 1  # the task is there


async def refused_form(caller: Caller, form_page: str, action: str,
                       data: dict[str, str]) -> tuple[dict, str]:  # fmt: skip
    """Post ``data`` to ``action`` as the form on ``form_page`` would, expecting a refusal;
    the values the next page puts back into the form, and that page."""
    opened = await send(caller, "GET", form_page)
    token = token_of(await opened.text())
    browser = f"tt_ui={opened.cookies['tt_ui'].coded_value}" if "tt_ui" in opened.cookies else ""
    refused = await send(caller, "POST", action, data={**data, "csrf": token}, cookies=browser)
    assert refused.status == 303, await refused.text()
    kept = refused.cookies["tt_refill"].coded_value
    flash = refused.cookies["tt_flash"].coded_value
    following = await send(caller, "GET", refused.headers["Location"],
                           cookies=f"tt_refill={kept}; tt_flash={flash}")  # fmt: skip
    html = await following.text()
    found = re.search(r'<main id="main" data-refill="([^"]*)"', html)
    assert found, "the page does not put the refused form's values back"
    refill = json.loads(html_unescape(found.group(1)))
    assert refill["action"] == action and f'action="{action}"' in html
    return refill["fields"], html


async def test_every_refused_form_comes_back_with_what_was_typed(world: World) -> None:
    p = world.project
    fields, _ = await refused_form(
        world.admin,
        "/ui/new_project",
        "/ui/new_project",
        {
            "name": "",
            "clone_url": "https://x.example/a/b",
            "version": "v1",
            "public": "on",
            "back": "/ui/new_project",
        },
    )
    assert fields == {"name": [""], "clone_url": ["https://x.example/a/b"], "version": ["v1"],
                      "public": ["on"]}  # fmt: skip
    fields, _ = await refused_form(world.admin, f"/ui/project/{p}/edit", f"/ui/project/{p}/edit",
                                   {"name": "renamed", "motd": "bonjour", "assign_rate": "fast",
                                    "back": f"/ui/project/{p}/edit"})  # fmt: skip
    assert fields["motd"] == ["bonjour"] and fields["assign_rate"] == ["fast"]
    fields, html = await refused_form(
        world.anonymous,
        "/ui/login",
        "/ui/register",
        {
            "username": "newcomer",
            "password": "password1",
            "repeat": "password2",
            "back": "/ui/login#register",
        },
    )
    assert fields == {"username": ["newcomer"]}  # never a password
    assert "password1" not in html and "The passwords differ" in html
    fields, _ = await refused_form(world.admin, "/ui/console", "/ui/console",
                                   {"project": str(p), "worker": "77", "recipe": "faire",
                                    "priority": "5", "back": "/ui/console"})  # fmt: skip
    assert fields["recipe"] == ["faire"] and fields["priority"] == ["5"]
    fields, _ = await refused_form(
        world.admin,
        f"/ui/project/{p}/secret",
        f"/ui/project/{p}/secret",
        {"secret": "x" * 100_000, "back": f"/ui/project/{p}/secret"},
    )
    assert "secret" not in fields


def figures_of(html: str) -> str:
    """The dashboard's figures and charts, as the page writes them."""
    return html[html.index('<div id="figures"') : html.index('<div class="latest">')]


def figure(html: str, name: str) -> str:
    found = re.search(rf'<dd id="{name}"[^>]*>([^<]*)</dd>', html)
    assert found, f"no figure {name}"
    return found.group(1)


async def test_the_dashboard_says_what_closed_recently_the_same_after_a_restart(
    world: World, clock: Clock
) -> None:
    for n in range(10):
        await world.submit(f"r{n}")
    clock.advance(600)
    for _ in range(3):  # 3 closed now, in the window; 1 failed of 4 releases
        await world.release((await world.task())["id"])
    await world.release((await world.task())["id"], result=1)
    clock.advance(160)  # the boundary at least 5 minutes back (120 s apart) is 6 min back
    html = await page(world.admin, f"/ui/project/{world.project}")
    assert "(over the last 6 min)" in html
    assert (
        figure(html, "rate") == f"{3 / 360:.2f}" and figure(html, "eta") == "00h12m00s"
    )  # 6 new tasks
    assert figure(html, "failure-rate") == "25.0 %"
    await world.restart()  # folded from the log: the same figures and charts
    again = await page(world.admin, f"/ui/project/{world.project}")
    assert figures_of(again) == figures_of(html)

    clock.advance(600)  # nothing closed in the last 5 minutes: no rate, no ETA
    html = await page(world.admin, f"/ui/project/{world.project}")
    assert (figure(html, "rate"), figure(html, "eta"), figure(html, "failure-rate")) == (
        "0.00",
        "—",
        "—",
    )


async def test_the_events_page_links_what_each_event_concerns(world: World) -> None:
    await world.submit("r")
    task = await world.task()
    await world.release(task["id"], result=1, reason="boom")
    html = await page(world.admin, f"/ui/events?project={world.project}")
    released = html[html.index("<td>TaskReleased</td>") :].split("</tr>")[0]
    worker = world.workers[0].worker["id"]
    for link in (f'href="/ui/project/{world.project}"', f'href="/ui/workers?info={worker}#info"',
                 f'href="/ui/task/{task["id"]}"'):  # fmt: skip
        assert link in released, released
    assert "<code>boom</code>" in released and "<code>failed</code>" in released
    assert '{"' not in html.split('id="events"')[1]  # no raw JSON in the rows
    assert 'data-keep="200"' in html  # the open page keeps a window (ui.js)
