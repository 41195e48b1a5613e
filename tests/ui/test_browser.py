"""The web UI in a real headless Chromium against a real ``tracker serve``: a manager's first
steps, the dashboard's figures and charts, task history, time travel, the live event view,
every destructive action behind its confirmation, and refusals shown in the page."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.integration.sample_log import tamper
from tests.ui.conftest import Http, Server, shot

PASSWORD = "password1"


def register(page: Any, username: str) -> None:
    page.goto("/ui/login")
    page.fill("#reg-username", username)
    page.fill("#reg-password", PASSWORD)
    page.fill("#reg-repeat", PASSWORD)
    page.click("#register button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/account$"))


def login(page: Any, username: str) -> None:
    page.goto("/ui/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-h ~ form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/account$"))


def create_project(page: Any, name: str, clone_url: str = "") -> int:
    page.goto("/ui/new_project")
    page.fill("#f-name", name)
    if clone_url:
        page.fill("#f-clone", clone_url)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ui/project/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def snackbar(page: Any) -> Any:
    return page.locator(".snackbar")


def accept_worker(api: Http, page: Any, project: int, alias: str) -> dict:
    """The worker asks over the API; the manager accepts it in the browser."""
    worker = api.worker(alias)
    asked = api.call("POST", "/project/request_access",
                     {"project": project, "assign": True, "submit": True}, worker)  # fmt: skip
    assert asked["ok"], asked
    page.goto(f"/ui/project/{project}/perms")
    row = page.locator("tbody tr", has_text=alias)
    expect(row).to_contain_text("Pending")
    row.get_by_role("button", name="Accept").click()
    expect(snackbar(page)).to_have_text("Access granted")
    expect(page.locator("tbody tr", has_text=alias)).not_to_contain_text("Pending")
    return worker


def test_a_manager_registers_creates_a_project_accepts_a_worker_and_watches_it_work(
    page: Any, api: Http, server: Server
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/$"))
    expect(page.locator("h2", has_text="Get started")).to_be_visible()
    shot(page, "index")
    page.goto("/ui/login")
    shot(page, "login")
    register(page, "alice")
    expect(page.locator("main")).to_contain_text("alice")
    shot(page, "account")
    page.goto("/ui/projects")
    expect(page.locator(".empty")).to_contain_text("No project yet")
    project = create_project(page, "crawl", "https://github.com/example/crawler.git")
    expect(snackbar(page)).to_have_text("Project created")
    expect(page.locator("main")).to_contain_text("example/crawler")
    expect(page.locator(".empty")).to_contain_text("No tasks")
    shot(page, "dashboard-empty")

    worker = api.worker("w1")
    api.call("POST", "/project/request_access",
             {"project": project, "assign": True, "submit": True}, worker)  # fmt: skip
    page.goto(f"/ui/project/{project}/perms")
    expect(page.locator("tbody tr", has_text="w1")).to_contain_text("Pending")
    shot(page, "permissions-pending")
    page.locator("tbody tr", has_text="w1").get_by_role("button", name="Accept").click()
    expect(snackbar(page)).to_have_text("Access granted")
    shot(page, "permissions")

    page.goto(f"/ui/project/{project}")
    before = int(page.locator("#tt-at").get_attribute("placeholder"))
    for n in range(12):
        assert api.submit(worker, project, f"task {n}", max_retries=0)["ok"]
    ids = []
    for n in range(5):
        task = api.take(worker, project)["content"]["task"]
        ids.append(task["id"])
        assert api.release(worker, task["id"], result=1 if n == 4 else 0)["ok"]  # one fails
    page.goto(f"/ui/project/{project}")
    expect(page.locator("#count-new")).to_have_text("7")
    expect(page.locator("#count-closed")).to_have_text("4")
    expect(page.locator("#count-failed")).to_have_text("1")
    expect(page.locator("#failure-rate")).to_have_text("20.0 %")  # 1 of the 5 releases
    assert page.locator("#rate").inner_text() != "0.00" and page.locator("#eta").inner_text() != "—"
    for chart in ("timeline", "status", "assignees"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-drawn", "true")
    expect(page.locator(".latest")).to_contain_text(f"#{ids[4]}")

    # live: work done over the API shows on the open dashboard without a reload
    task = api.take(worker, project)["content"]["task"]
    assert api.release(worker, task["id"])["ok"]
    expect(page.locator("#count-closed")).to_have_text("5", timeout=20_000)
    expect(page.locator("#count-new")).to_have_text("6")
    shot(page, "dashboard")

    # task history, from the dashboard's latest failed task
    page.locator(".latest a", has_text=f"#{ids[4]}").click()
    expect(page).to_have_url(re.compile(rf"/ui/task/{ids[4]}$"))
    timeline = page.locator("#timeline")
    for kind in ("TaskSubmitted", "TaskAssigned", "TaskReleased"):
        expect(timeline).to_contain_text(kind)
    for line in ("Submitted by worker:", "Assigned to worker #", "Released FAIL by worker #"):
        expect(timeline).to_contain_text(line)  # the story in words, the fields folded below
    expect(page.locator("#task-state")).to_contain_text("failed")
    shot(page, "task-history")

    # time travel: before any task was submitted the project had none
    page.goto(f"/ui/project/{project}?at={before}")
    past = page.locator("#past")
    expect(past).to_contain_text(f"As of position {before}")
    expect(past.locator("dd").first).to_have_text("0")
    page.goto(f"/ui/project/{project}")
    page.fill("#tt-at", str(before + 12))  # after the 12 submits, before any assignment
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#past dd").first).to_have_text("12")
    shot(page, "time-travel")
    page.fill("#tt-at", "last tuesday")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#past-error")).to_contain_text("at must be a log position")

    # the live event view: an event made over the API appears without a reload
    page.goto(f"/ui/events?project={project}")
    expect(page.locator("#events")).to_contain_text("TaskReleased")
    rows_before = page.locator("tr.event").count()
    task = api.take(worker, project)["content"]["task"]
    expect(page.locator("tr.event").first).to_contain_text("TaskAssigned", timeout=30_000)
    assert page.locator("tr.event").count() > rows_before
    assert api.release(worker, task["id"])["ok"]
    expect(page.locator("tr.event").first).to_contain_text("TaskReleased", timeout=30_000)
    shot(page, "events")
    page.fill("#e-type", "TaskAssigned")  # filters: only that type, only that worker
    page.fill("#e-worker", str(worker["id"]))
    page.get_by_role("button", name="Filter").click()
    types = page.locator("tr.event td:nth-child(3)")
    expect(types.first).to_have_text("TaskAssigned")
    assert set(types.all_inner_texts()) == {"TaskAssigned"}

    page.goto("/ui/projects")
    page.locator("summary", has_text="crawl").click()
    shot(page, "projects")
    api.worker("$probe")  # aliases starting with $ stay out of the chart
    page.goto("/ui/workers")
    chart = page.locator("#chart-workers")
    expect(chart).to_have_attribute("data-drawn", "true")
    assert '"w1"' in chart.get_attribute("data-values")
    assert "$probe" not in chart.get_attribute("data-values")
    page.locator("tbody tr", has_text="w1").get_by_role("link", name="Info").click()
    expect(page.locator("#info")).to_contain_text('"alias": "w1"')
    expect(page.locator("#info")).to_contain_text('"secret": "')  # the admin sees the secret
    shot(page, "workers")
    page.locator("tbody tr", has_text="w1").get_by_role("button", name="Pause").click()
    expect(snackbar(page)).to_have_text("Worker paused")
    expect(page.locator("tbody tr", has_text="w1")).to_contain_text("Paused")
    assert api.take(worker, project)["ok"] is False  # a paused worker gets no task


def test_every_destructive_action_asks_first_and_reports_what_it_did(page: Any, api: Http) -> None:
    register(page, "admin")
    project = create_project(page, "maint")
    worker = accept_worker(api, page, project, "wmaint")
    for n in range(6):
        assert api.submit(worker, project, f"t{n}", max_retries=0)["ok"]
    failed = api.take(worker, project)["content"]["task"]
    api.release(worker, failed["id"], result=1)
    api.take(worker, project)
    api.take(worker, project)  # two assigned

    page.goto(f"/ui/project/{project}")
    page.get_by_role("link", name="Reset failed tasks").click()
    expect(page.locator("h1")).to_have_text("Are you sure?")
    shot(page, "confirm")
    page.get_by_role("link", name="Cancel").click()  # cancelling changes nothing
    expect(page.locator("#count-failed")).to_have_text("1")
    page.get_by_role("link", name="Reset failed tasks").click()
    page.get_by_role("button", name="Confirm").click()
    expect(snackbar(page)).to_have_text("Reset failed tasks: 1")
    expect(page.locator("#count-failed")).to_have_text("0")

    page.get_by_role("link", name="Reclaim assigned tasks").click()
    page.get_by_role("button", name="Confirm").click()
    expect(snackbar(page)).to_have_text("Assignments taken back: 2")  # the API says 6 (all NEW)
    assert api.call("GET", f"/project/assignees/{project}")["content"]["assignees"] == [
        {"assignee": "unassigned", "task_count": 6}
    ]

    page.get_by_role("button", name="Pause").click()
    expect(snackbar(page)).to_have_text("Paused")
    expect(page.locator("h1 .tag")).to_have_text("Paused")
    assert api.call("GET", f"/project/get/{project}")["content"]["project"]["paused"] is True
    page.get_by_role("button", name="Resume").click()
    expect(snackbar(page)).to_have_text("Resumed")

    page.get_by_role("link", name="Hard reset").click()
    expect(page.locator(".card.danger")).to_contain_text("cannot be undone")
    page.get_by_role("button", name="Confirm").click()
    expect(snackbar(page)).to_have_text("Deleted tasks: 6")
    expect(page.locator(".empty")).to_contain_text("No tasks")

    page.goto(f"/ui/project/{project}/perms")  # removing access stops the worker
    page.locator("tbody tr", has_text="wmaint").get_by_role("button", name="Remove").click()
    expect(snackbar(page)).to_have_text("Access removed")
    expect(page.locator(".empty")).to_contain_text("No worker has asked")
    assert api.submit(worker, project, "after removal")["ok"] is False


def test_refusals_are_shown_in_the_page(page: Any, api: Http, browser: Any, server: Server) -> None:
    register(page, "boss")
    project = create_project(page, "guarded")
    idle = api.worker("idle")  # has no access to the project

    # the console: a worker without submit access is refused, and the page says so
    page.goto("/ui/console")
    page.fill("#c-worker", str(idle["id"]))
    page.fill("#c-recipe", "{}")
    page.get_by_role("button", name="Submit task").click()
    expect(snackbar(page)).to_have_class(re.compile("error"))
    expect(snackbar(page)).to_contain_text("nauthorized")
    expect(page.locator("#c-worker")).to_have_value(str(idle["id"]))  # what was typed is kept
    expect(page.locator("#c-recipe")).to_have_value("{}")
    shot(page, "console-refused")

    # a manager without roles
    other = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    try:
        second = other.new_page()
        register(second, "bob")
        second.goto(f"/ui/project/{project}/perms")
        expect(second.locator(".refusal")).to_have_text(
            "You need ROLE_MANAGE_ACCESS on this project"
        )
        expect(second.get_by_role("button", name="Add manager")).to_have_count(0)
        expect(second.locator("tbody tr", has_text="boss").locator("input").first).to_be_disabled()
        shot(second, "permissions-refused")
        second.goto(f"/ui/project/{project}")  # no action it may not take is offered
        expect(second.locator("#actions")).to_have_count(0)
        expect(second.get_by_role("link", name="Edit")).to_have_count(0)
        second.goto(f"/ui/project/{project}/confirm/hard_reset")
        expect(second.locator(".refusal")).to_contain_text("Maintenance role")
        expect(second.get_by_role("button", name="Confirm")).to_have_count(0)
        second.goto("/ui/managers")
        expect(second.locator(".refusal")).to_be_visible()
        second.goto(f"/ui/project/{project}/secret")
        expect(second.locator(".refusal")).to_be_visible()
        shot(second, "secrets-refused")
    finally:
        other.close()


def test_admin_pages_edit_secrets_managers_logs_and_the_audit(page: Any, api: Http) -> None:
    register(page, "root")
    project = create_project(page, "admin-tour")
    page.goto(f"/ui/project/{project}/edit")
    page.fill("#f-motd", "Hello crawlers")
    page.click("main form button[type=submit]")
    expect(snackbar(page)).to_have_text("Saved")
    expect(page.locator(".motd")).to_have_text("Hello crawlers")
    page.goto(f"/ui/project/{project}/edit")
    shot(page, "edit-project")

    page.goto(f"/ui/project/{project}/secret")
    page.fill("#s-project", '{"token": "abc"}')
    page.locator("form", has=page.locator("#s-project")).get_by_role("button").click()
    expect(snackbar(page)).to_have_text("Saved")
    expect(page.locator("#s-project")).to_have_value('{"token": "abc"}')
    shot(page, "secrets")

    worker = api.worker("logger")
    line = {"scope": "fetch", "message": "boom", "timestamp": 1_900_000_000}
    api.call("POST", "/log/error", line, worker)
    page.goto("/ui/logs")
    expect(page.locator(".empty")).to_contain_text("Choose a level")
    page.get_by_role("button", name="Error").click()
    expect(page.locator("tbody")).to_contain_text("boom")
    shot(page, "logs")

    api_manager = Http(api.url)
    api_manager.call("POST", "/register", {"username": "carol", "password": PASSWORD})
    page.goto("/ui/managers")
    row = page.locator("tbody tr", has_text="carol")
    row.get_by_role("button", name="Promote").click()
    expect(snackbar(page)).to_have_text("Promoted")
    expect(page.locator("tbody tr", has_text="carol")).to_contain_text("admin")
    shot(page, "managers")

    page.goto(f"/ui/project/{project}/perms")  # roles: add carol (Read), then tick Edit
    page.select_option("#add-manager", label="carol")
    page.get_by_role("button", name="Add manager").click()
    expect(snackbar(page)).to_have_text("Saved")
    row = page.locator("tbody tr", has_text="carol")
    expect(row.get_by_label("Read (carol)")).to_be_checked()
    row.get_by_label("Edit (carol)").check()
    row.get_by_role("button", name="Save").click()
    expect(snackbar(page)).to_have_text("Saved")
    roles = api_manager.call("GET", f"/manager/list_for_project/{project}")["content"]
    assert [(r["manager"]["username"], r["role"]) for r in roles["managers"]][-1] == ("carol", 3)
    shot(page, "permissions-roles")

    page.goto("/ui/audit")
    expect(page.locator("#verification")).to_contain_text("Not verified")
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator("#verify-outcome")).to_contain_text("Intact", timeout=20_000)
    expect(page.get_by_role("button", name="Verify the chain")).to_be_enabled()
    shot(page, "audit")


def test_the_audit_page_reports_where_an_edited_log_breaks(page: Any, server: Server) -> None:
    register(page, "auditor")
    create_project(page, "evidence")
    edited = b'{"type":"ProjectCreated","project_id":1,"name":"forged"}'
    tamper(server.data_dir, ("UPDATE events SET data = ? WHERE position = 2", (edited,)))
    page.goto("/ui/audit")
    page.get_by_role("button", name="Verify the chain").click()
    outcome = page.locator("#verify-outcome")
    expect(outcome).to_contain_text("Broken at position 2", timeout=20_000)
    expect(outcome).to_contain_text("hash mismatch")
    shot(page, "audit-broken")


def test_french_and_a_narrow_screen(page: Any, api: Http, browser: Any, server: Server) -> None:
    register(page, "marie")
    project = create_project(page, "étroit")
    page.get_by_role("link", name="FR").click()
    expect(page.locator("header nav")).to_contain_text("Projets")
    expect(page.locator("main")).to_contain_text("Tâches terminées par seconde")
    page.get_by_role("link", name="Réinitialisation complète").click()
    expect(page.locator(".card.danger")).to_contain_text("C'est irréversible")
    page.get_by_role("button", name="Confirmer").click()
    expect(snackbar(page)).to_have_text("Tâches supprimées : 0")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/ui/project/{project}")
    shot(page, "dashboard-narrow-fr")
    page.keyboard.press("Tab")  # the first stop is the skip link, then the nav
    assert page.evaluate("document.activeElement.className") == "skip"


def test_an_open_live_dashboard_does_not_hold_up_a_stop(browser: Any, server: Server) -> None:
    context = browser.new_context(base_url=server.url)
    try:
        viewer = context.new_page()
        register(viewer, "watcher")
        project = create_project(viewer, "watched")
        with viewer.expect_request(re.compile(r"/live\?after=")):  # waits for news
            viewer.goto(f"/ui/project/{project}")
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 3  # the open long poll ends as the stop begins
    finally:
        context.close()


def fleet(api: Http, workers: int) -> tuple[Http, int, list[dict]]:
    """A tracker admin (over the API), a project and ``workers`` workers with access."""
    lead = Http(api.url)
    assert lead.call("POST", "/register", {"username": "lead", "password": PASSWORD})["ok"]
    project = int(lead.call("POST", "/project/create", {"name": "fleet"})["content"]["id"])
    found = []
    for n in range(workers):
        worker = api.worker(f"crawler-{n:02d}")
        api.call("POST", "/project/request_access",
                 {"project": project, "assign": True, "submit": True}, worker)  # fmt: skip
        assert lead.call("POST", f"/project/accept_request/{project}/{worker['id']}")["ok"]
        found.append(worker)
    return lead, project, found


def test_the_dashboard_in_the_dark_theme_with_a_fleet_of_workers(
    browser: Any, api: Http, server: Server
) -> None:
    lead, project, workers = fleet(api, 10)
    for n in range(40):
        assert api.submit(workers[0], project, f"page {n}", max_retries=0)["ok"]
    for n, worker in enumerate(workers):  # each releases one task (two fail) and keeps one
        task = api.take(worker, project)["content"]["task"]
        assert api.release(worker, task["id"], result=1 if n < 2 else 0)["ok"]
        api.take(worker, project)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url,
                                  color_scheme="dark")  # fmt: skip
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, "lead")
        page.goto(f"/ui/project/{project}")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 21, 27)", background  # the dark theme's --bg
        expect(page.locator("#failure-rate")).to_have_text("20.0 %")
        legend = page.locator("#assignee-legend li")
        expect(legend).to_have_count(9)  # the 8 largest groups, then the others together
        expect(legend.first).to_have_text("unassigned: 22")  # 20 queued, 2 failed
        expect(legend.last).to_have_text("others: 3")
        for chart in ("timeline", "status", "assignees"):
            expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-drawn", "true")
        shot(page, "dashboard-dark")
        page.get_by_role("link", name="7 days").click()
        expect(page).to_have_url(re.compile(r"range=7d$"))
        expect(page.locator(".charts figcaption").first).to_have_text("Timeline (7 days)")
        expect(page.locator("#chart-timeline")).to_have_attribute("data-drawn", "true")
        assert not errors, errors
    finally:
        context.close()


def test_a_refused_form_keeps_what_was_typed_and_events_keep_a_window(page: Any, api: Http) -> None:
    lead, project, (worker,) = fleet(api, 1)
    login(page, "lead")
    page.goto("/ui/new_project")
    page.fill("#f-name", "fleet")  # taken
    page.fill("#f-clone", "https://example.com/team/fleet.git")
    page.fill("#f-version", "v2")
    page.click("main form button[type=submit]")
    expect(snackbar(page)).to_have_text("A project with this name already exists")
    expect(page).to_have_url(re.compile(r"/ui/new_project$"))
    expect(page.locator("#f-name")).to_have_value("fleet")
    expect(page.locator("#f-clone")).to_have_value("https://example.com/team/fleet.git")
    expect(page.locator("#f-version")).to_have_value("v2")
    page.reload()  # kept once: a page opened afterwards starts empty
    expect(page.locator("#f-clone")).to_have_value("")

    page.goto(f"/ui/events?project={project}")
    expect(page.locator("tr.event").first).to_be_visible()
    for n in range(230):  # more events than the page keeps
        assert api.submit(worker, project, f"item {n}")["ok"]
    rows = page.locator("tr.event")
    expect(rows.first).to_contain_text("Task #230", timeout=30_000)
    expect(rows).to_have_count(200)
    rows.first.get_by_role("link", name="Task #230").click()
    expect(page).to_have_url(re.compile(r"/ui/task/230$"))
