"""The task browser in a real headless Chromium against a real ``tracker serve``: from the
dashboard's failed count to the list of failed tasks with their last reasons, filters and
paging, a refused filter shown above the form, and a failed task's attempts with each reason."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Http, shot
from tests.ui.test_browser import accept_worker, create_project, register


def fail(api: Http, worker: dict, project: int, reason: str) -> int:
    """The worker takes the next task and releases it FAIL with ``reason``."""
    task = api.take(worker, project)["content"]["task"]
    body = {"task_id": task["id"], "result": 1, "reason": reason}
    assert api.call("POST", "/task/release", body, worker)["ok"]
    return int(task["id"])


def test_a_manager_lists_failed_tasks_filters_them_and_reads_each_attempts_reason(
    page: Any, api: Http
) -> None:
    register(page, "mia")
    project = create_project(page, "crawl")
    worker = accept_worker(api, page, project, "crawler-1")
    for n in range(1, 31):  # task 1 first (priority 5), retried once; the others fail at once
        recipe = f'{{"url": "https://example.com/page/{n}"}}'
        fields = {"priority": 5, "max_retries": 2} if n == 1 else {"max_retries": 1}
        assert api.submit(worker, project, recipe, **fields)["ok"]
    first = fail(api, worker, project, "HTTP 503 from example.com (attempt 1)")
    assert fail(api, worker, project, "timeout after 30 s: no answer") == first
    for n in range(2, 5):
        assert fail(api, worker, project, f"exit status 1: ValueError: bad page {n}") == n
    task = api.take(worker, project)["content"]["task"]  # one assigned, the rest queued
    assert task["id"] == 5

    page.goto(f"/ui/project/{project}")
    expect(page.locator("#count-failed")).to_have_text("4")
    page.locator("#count-failed a").click()
    expect(page).to_have_url(re.compile(rf"/ui/project/{project}/tasks\?state=failed$"))
    rows = page.locator("#task-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("timeout after 30 s")  # the last attempt's reason
    expect(rows.nth(3)).to_contain_text("ValueError: bad page 4")
    expect(page.locator("#f-state")).to_have_value("failed")
    expect(page.locator("#task-actions-block")).to_be_attached()  # where the actions go
    shot(page, "task-browser")

    page.select_option("#f-state", "")  # every live task whose recipe has page/1
    page.fill("#f-recipe", "page/1")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(11)  # page/1 and page/10 to page/19
    for recipe in rows.locator("td:nth-child(5)").all_inner_texts():
        assert "page/1" in recipe, recipe
    expect(rows.filter(has_text="Assigned")).to_have_count(0)  # task 5 is page/5

    page.goto(f"/ui/project/{project}/tasks?state=queued&limit=10")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("#6")
    page.locator("#tasks-next").click()
    expect(rows.first).to_contain_text("#16")
    page.locator("#tasks-next").click()
    expect(rows).to_have_count(5)  # 26 to 30
    expect(page.locator("#tasks-next")).to_have_count(0)

    page.goto(f"/ui/project/{project}/tasks?priority_min=high&recipe=kept")
    expect(page.locator("#filter-error")).to_contain_text("Priority from must be an integer")
    expect(page.locator("#f-recipe")).to_have_value("kept")

    page.goto(f"/ui/project/{project}/tasks?state=failed")
    page.locator("#task-table a", has_text=f"#{first}").click()
    expect(page).to_have_url(re.compile(rf"/ui/task/{first}$"))
    attempts = page.locator("#attempts tbody tr")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0)).to_contain_text("HTTP 503 from example.com (attempt 1)")
    expect(attempts.nth(0)).to_contain_text("FAIL")
    expect(attempts.nth(1)).to_contain_text("timeout after 30 s: no answer")
    expect(page.locator("#task-state")).to_contain_text("failed")
    expect(page.locator("#timeline .reason")).to_have_count(2)
    shot(page, "task-failed-history")
