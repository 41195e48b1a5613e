"""Actions on tasks in the web UI through the real app (no browser): a task's page shows the
buttons its state allows to a manager with the Maintenance role and none to others, a forged
form is refused by the decider and appends nothing, "every matching task" shows its count
before it acts, and bad forms are refused with a message, never a 5xx."""

from __future__ import annotations

import base64
import json
import re
from html import unescape

from aiohttp import ClientResponse

from tests.ui.http import page, send, token_of
from tests.world import Caller, World

MAINTENANCE, READ = 16, 1


async def shop(world: World) -> tuple[int, int, int]:
    """A failed, an assigned and a queued task of the world's project."""
    for recipe in ("failed", "assigned", "queued"):
        assert (await world.submit(recipe)).ok
    failed = await world.task()
    await world.release(failed["id"], 1)
    assigned = await world.task()
    return failed["id"], assigned["id"], assigned["id"] + 1


def flash(response: ClientResponse) -> dict[str, str]:
    """The snackbar message a redirect carries."""
    return dict(json.loads(base64.urlsafe_b64decode(response.cookies["tt_flash"].value)))


async def post(caller: Caller, path: str, data: dict[str, str], token: str) -> ClientResponse:
    return await send(caller, "POST", path, data={**data, "csrf": token})


def hidden(html: str) -> dict[str, str]:
    """A form's hidden fields, as a browser sends them."""
    found = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in found}


def buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" id="task-(\w+)"', html)


async def test_a_tasks_page_shows_the_actions_its_state_allows_to_a_maintainer_only(
    world: World,
) -> None:
    failed, assigned, queued = await shop(world)
    assert buttons(await page(world.admin, f"/ui/task/{failed}")) == ["retry"]
    assert buttons(await page(world.admin, f"/ui/task/{assigned}")) == ["take_back"]
    assert buttons(await page(world.admin, f"/ui/task/{queued}")) == ["cancel", "priority"]
    reader = await world.register("reader")
    await world.set_role(world.project, reader, READ)
    html = await page(reader, f"/ui/task/{failed}")
    assert "task-actions-one" not in html and buttons(html) == []


async def test_a_form_from_the_tasks_page_acts_and_says_so(world: World) -> None:
    failed, _, queued = await shop(world)
    token = token_of(await page(world.admin, f"/ui/task/{failed}"))
    path = f"/ui/project/{world.project}/tasks/act"
    response = await post(world.admin, path, {"task": str(failed), "action": "retry",
                                              "back": f"/ui/task/{failed}"}, token)  # fmt: skip
    assert (response.status, response.headers["Location"]) == (303, f"/ui/task/{failed}")
    assert flash(response) == {"kind": "ok", "text": "Tasks retried: 1"}
    html = await page(world.admin, f"/ui/task/{failed}")
    assert "Failed task reset to new by a manager" in html and f"manager:{world.admin.id}" in html
    french = {"Cookie": f"{world.admin.headers()['Cookie']}; tt_lang=fr"}
    response = await send(world.admin, "POST", path, headers=french, data={
        "task": str(queued), "action": "priority", "priority": "7", "csrf": token})  # fmt: skip
    assert flash(response)["text"] == "Priorités changées : 1"
    assert world.tracker.state.tasks.tasks[queued].priority == 7


async def test_a_forged_form_from_a_manager_without_the_role_is_refused(world: World) -> None:
    failed, assigned, queued = await shop(world)
    reader = await world.register("reader")
    await world.set_role(world.project, reader, 15)  # every role but Maintenance
    token = token_of(await page(reader, "/ui/new_project"))  # the session's token
    before = world.position()
    path = f"/ui/project/{world.project}/tasks/act"
    for data in ({"task": str(failed), "action": "retry"},
                 {"task": str(queued), "action": "cancel"},
                 {"action": "take_back", "confirm": "1"}):  # fmt: skip
        response = await post(reader, path, data, token)
        assert response.status == 303 and flash(response)["kind"] == "error", data
        assert flash(response)["text"] == "Unauthorized"
    assert world.position() == before


async def test_every_matching_task_is_counted_on_a_confirmation_page_before_it_acts(
    world: World,
) -> None:
    for n in range(3):
        assert (await world.submit(f"batch-{n}")).ok
    assert (await world.submit("other")).ok
    path = f"/ui/project/{world.project}/tasks/confirm?action=cancel&recipe=batch-&state=queued"
    html = await page(world.admin, path)
    assert 'data-count="3"' in html and "3 queued tasks will be deleted" in html
    fields = hidden(html)
    assert (fields["confirm"], fields["recipe"], fields["action"]) == ("3", "batch-", "cancel")
    assert (await world.submit("batch-late")).ok  # one more matches since the count was shown
    act = f"/ui/project/{world.project}/tasks/act"
    response = await send(world.admin, "POST", act, data=fields)
    assert flash(response) == {"kind": "error", "text": (
        "4 tasks match now, more than the 3 confirmed: confirm again")}  # fmt: skip
    html = await page(world.admin, path)
    fields = hidden(html)
    response = await send(world.admin, "POST", act, data=fields)
    assert flash(response) == {"kind": "ok", "text": "Tasks cancelled: 4"}
    assert response.headers["Location"] == (
        f"/ui/project/{world.project}/tasks?recipe=batch-&state=queued")  # fmt: skip
    assert [t["recipe"] for t in await world.drain()] == ["other"]
    empty = await page(world.admin, path)
    assert 'data-count="0"' in empty and 'name="confirm"' not in empty


async def test_bad_forms_are_refused_with_a_message_and_never_a_5xx(world: World) -> None:
    failed, _, _ = await shop(world)
    token = token_of(await page(world.admin, f"/ui/task/{failed}"))
    before = world.position()
    act = f"/ui/project/{world.project}/tasks/act"
    for data, told in (
        ({"action": "explode", "task": str(failed)}, "Unknown action"),
        ({"action": "retry", "task": "abc"}, "task must be a whole number"),
        ({"action": "retry"}, "Name at least one task"),
        ({"action": "priority", "task": "3", "priority": "99999"}, "Invalid priority"),
        ({"action": "retry", "confirm": "2", "recpie": "x"}, "recpie is not a parameter"),
    ):  # fmt: skip
        response = await post(world.admin, act, data, token)
        assert response.status == 303 and told in flash(response)["text"], (data, flash(response))
    for path in ("/ui/project/1/tasks/confirm?action=explode",
                 "/ui/project/1/tasks/confirm?action=retry&priority=x",
                 "/ui/project/1/tasks/confirm?action=retry&state=lost",
                 "/ui/project/abc/tasks/confirm?action=retry",
                 "/ui/project/99/tasks/confirm?action=retry"):  # fmt: skip
        response = await send(world.admin, "GET", path)
        assert 400 <= response.status < 500, (path, response.status)
    assert world.position() == before


async def test_the_task_list_offers_the_actions_to_a_maintainer_and_acts_on_the_selection(
    world: World,
) -> None:
    failed, assigned, queued = await shop(world)
    listing = f"/ui/project/{world.project}/tasks?state=failed"
    html = await page(world.admin, listing)
    assert 'id="task-actions"' in html and 'id="task-actions-all"' in html
    assert '<input type="hidden" name="state" value="failed">' in html  # "all matching" keeps it
    reader = await world.register("reader")
    await world.set_role(world.project, reader, READ)
    html = await page(reader, listing)
    assert 'id="task-actions"' not in html and 'id="task-actions-all"' not in html
    html = await page(reader, f"/ui/project/{world.project}/tasks/confirm?action=retry")
    assert "You need the Maintenance role" in html and 'name="confirm"' not in html
    token = token_of(await page(world.admin, listing))
    selected = [("task", str(failed)), ("task", str(assigned)), ("task", str(queued)),
                ("action", "take_back"), ("back", listing), ("csrf", token)]  # fmt: skip
    response = await send(world.admin, "POST", f"/ui/project/{world.project}/tasks/act",
                          data=selected)  # fmt: skip
    assert response.headers["Location"] == listing
    assert flash(response) == {"kind": "ok", "text": "Tasks taken back: 1 · skipped: 2"}


def test_every_string_the_actions_show_has_its_french() -> None:
    from tracker.ui import HERE, i18n
    from tracker.ui.views import task_actions

    english = [text for labels in task_actions.LABELS.values() for text in labels]
    english += [task_actions.UNKNOWN_ACTION, "skipped: {n}", "Cancelled by a manager",
                "Priority changed by a manager"]  # fmt: skip
    for name in ("_task_actions.html", "_task_buttons.html", "confirm_tasks.html"):
        english += re.findall(r'_\("([^"]+)"\)', (HERE / "templates" / name).read_text())
    missing = sorted({text for text in english if text not in i18n.CATALOGUES["fr"]} - {"label"})
    assert not missing, missing
