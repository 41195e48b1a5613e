"""Actions on tasks in a real headless Chromium against a real ``tracker serve``: retry a failed
task from the list, change a priority and cancel a queued task from their pages, take back an
assignment, act on every task matching a filter after a page that counts them, and read each
action in the task's history with the manager who did it; a manager without the Maintenance
role sees no button, and a form forged in their browser is refused."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.processes import Server
from tests.ui.conftest import Http, shot
from tests.ui.test_browser import PASSWORD, accept_worker, create_project, login, register
from tests.ui.test_browser import snackbar as snack
from tests.ui.test_task_browser import fail


def stocked(api: Http, page: Any, project: int) -> dict[str, Any]:
    """A worker and the project's tasks: #1 and #2 failed, #3 held by the worker, #4 to #9
    queued (recipes batch-4 to batch-8, then keep-9)."""
    worker = accept_worker(api, page, project, "crawler-1")
    recipes = ["bad-1", "bad-2", "held-3", *(f"batch-{n}" for n in range(4, 9)), "keep-9"]
    for recipe in recipes:
        assert api.submit(worker, project, recipe)["ok"]
    assert [fail(api, worker, project, f"boom {n}") for n in (1, 2)] == [1, 2]
    assert api.take(worker, project)["content"]["task"]["id"] == 3
    return worker


def history_line(page: Any, task: int, told: str, actor: str) -> None:
    """The task's page lists the action, with the manager who did it, as its last event."""
    page.goto(f"/ui/task/{task}")
    last = page.locator("#timeline li").last
    expect(last).to_contain_text(told)
    expect(last).to_contain_text(actor)


def test_a_manager_acts_on_tasks_and_reads_each_action_in_their_history(
    page: Any, api: Http
) -> None:
    register(page, "ada")
    project = create_project(page, "crawl")
    stocked(api, page, project)
    me = "manager:1"

    page.goto(f"/ui/project/{project}/tasks?state=failed")  # retry one failed task
    page.locator('#task-table input[type=checkbox][value="1"]').check()
    shot(page, "task-browser-actions")
    page.locator("#sel-retry").click()
    expect(snack(page)).to_have_text("Tasks retried: 1")
    expect(page.locator("#task-table tbody tr")).to_have_count(1)  # only #2 is still failed
    history_line(page, 1, "Failed task reset to new by a manager", me)
    expect(page.locator("#task-state")).to_contain_text("queued")

    page.goto("/ui/task/8")  # a new priority, from the task's page
    page.fill("#one-priority", "9")
    page.locator("#task-priority").click()
    expect(snack(page)).to_have_text("Priorities changed: 1")
    history_line(page, 8, "Priority changed by a manager", me)

    page.goto("/ui/task/9")  # cancel a queued task
    shot(page, "task-page-actions")
    page.locator("#task-cancel").click()
    expect(snack(page)).to_have_text("Tasks cancelled: 1")
    history_line(page, 9, "Cancelled by a manager", me)
    expect(page.locator("#task-state")).to_contain_text("cancelled")
    expect(page.locator("#task-actions-one")).to_have_count(0)  # nothing left to do with it

    page.goto("/ui/task/3")  # take back the worker's assignment
    page.locator("#task-take_back").click()
    expect(snack(page)).to_have_text("Tasks taken back: 1")
    history_line(page, 3, "Taken back from its worker by a manager", me)

    cancel_every_match(page, project)
    history_line(page, 4, "Cancelled by a manager", me)


def cancel_every_match(page: Any, project: int) -> None:
    """From the list filtered to the five queued batch tasks, cancel every match after the
    page that counts them."""
    page.goto(f"/ui/project/{project}/tasks?state=queued&recipe=batch")
    expect(page.locator("#task-table tbody tr")).to_have_count(5)
    page.select_option("#all-action", "cancel")
    page.locator("#all-go").click()
    expect(page).to_have_url(re.compile(rf"/ui/project/{project}/tasks/confirm\?"))
    expect(page.locator("#confirm-count")).to_have_attribute("data-count", "5")
    expect(page.locator("#confirm-count")).to_contain_text("5 queued tasks will be deleted")
    shot(page, "task-actions-confirm")
    page.get_by_role("button", name="Confirm").click()
    expect(snack(page)).to_have_text("Tasks cancelled: 5")
    expect(page).to_have_url(re.compile(rf"/ui/project/{project}/tasks\?"))
    expect(page.locator("#task-table tbody tr.empty-row")).to_have_count(1)


def test_a_manager_without_the_role_sees_no_button_and_a_forged_form_is_refused(
    page: Any, api: Http, server: Server
) -> None:
    register(page, "ada")
    project = create_project(page, "crawl")
    stocked(api, page, project)
    bob, admin = Http(server.url), Http(server.url)
    assert bob.call("POST", "/register", {"username": "bob", "password": PASSWORD})["ok"]
    assert admin.call("POST", "/login", {"username": "ada", "password": PASSWORD})["ok"]
    bob_id = bob.call("GET", "/account")["content"]["manager"]["id"]
    body = {"manager": bob_id, "role": 15}  # every role but Maintenance
    assert admin.call("POST", f"/manager/set_role_for_project/{project}", body)["ok"]
    page.context.clear_cookies()
    login(page, "bob")

    page.goto(f"/ui/project/{project}/tasks?state=failed")
    expect(page.locator("#task-table tbody tr")).to_have_count(2)  # bob may read them
    expect(page.locator("#task-actions")).to_have_count(0)
    expect(page.locator("#task-actions-all")).to_have_count(0)
    page.goto("/ui/task/1")
    expect(page.locator("#task-actions-one")).to_have_count(0)

    forge_retry(page, project, task=1)
    expect(snack(page)).to_have_text("Unauthorized")
    expect(page.locator("#task-state")).to_contain_text("failed")
    expect(page.locator("#timeline li").last).not_to_contain_text("by a manager")


def forge_retry(page: Any, project: int, task: int) -> None:
    """The form a maintainer's task page has, forged in this page with the session's token."""
    page.goto("/ui/new_project")  # any form of the session gives its token
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    page.goto(f"/ui/task/{task}")
    page.evaluate(
        """([project, token, task]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = `/ui/project/${project}/tasks/act`;
            for (const [name, value] of [["csrf", token], ["task", String(task)],
                                         ["action", "retry"], ["back", `/ui/task/${task}`]]) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [project, token, task],
    )
