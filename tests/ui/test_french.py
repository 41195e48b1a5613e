"""French is complete: every page of the UI, walked in French, holds no English left.

The walk is generic: it visits every GET route the app has under ``/ui/`` (so a page added
later is walked too), with the path parameters below and a few query variants, as a tracker
admin and as a visitor. A page fails if its visible text (or a title, label or placeholder)
holds an English message of the catalogue (a key whose French differs), or a common English
word. Code, JSON, event type names and other data are left out: ``<code>``, ``<pre>`` and
``translate="no"`` elements.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from tests.conftest import Clock
from tests.world import Caller, World
from tracker.ui import i18n

# Words that are English and not French: a page in French showing one has English left.
ENGLISH_WORDS = frozenset(
    re.findall(
        r"\w+",
        """
    the and of to with from for is are was were has have had not yet by this that these those
    your you will be been it its into than then there their which who what when where how
    task tasks worker workers project projects event events closed failed queued assigned
    unassigned released submitted others last log logs chain verified refresh show hide
    new none no yes any every all add remove save cancel edit delete search filter since
    next previous more less only here first later before after until between
""",
    )
)
# A path parameter's values, by name; a route with a parameter not listed here fails the walk,
# so that whoever adds it says what to walk it with.
PARAMS: dict[str, list[str]] = {
    "id": ["{project}"],
    "action": ["reset_failed", "reclaim", "hard_reset"],
}
PARAMS_UNDER = {"/ui/task/": {"id": ["{task}"]}}  # a path's own meaning of a name
QUERIES = {  # more ways to see a page
    "/ui/project/{id}": ["?at=1", "?at=last+tuesday", "?range=7d", "?range=all"],
    "/ui/workers": ["?info={worker}"],
    "/ui/events": ["?project={project}", "?type=TaskReleased"],
    "/ui/logs": ["?level=error"],
    "/ui/project/{id}/tasks": [
        "?state=failed",
        "?state=closed&sort=-id",
        "?recipe=none",
        "?priority_min=high",
        "?limit=1",
        "?cursor=x",
        "?submitted_to=later",
    ],
    "/ui/project/{id}/tasks/confirm": [
        "?action=cancel&state=queued",
        "?action=priority&priority=3",
        "?action=retry&recipe=none",
        "?action=take_back&priority_min=high",
    ],
}
LEFT_OUT = ("/ui/static/", "/ui/lang/")  # files, and the language switch (a redirect)


class Visible(HTMLParser):
    """The text a person reads, and the attributes a browser shows or speaks."""

    SKIPPED = {"script", "style", "code", "pre", "kbd", "samp"}
    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}
    SHOWN = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.skipping:
            if tag == self.skipping[0]:
                self.skipping.append(tag)
            return
        if tag in self.SKIPPED or found.get("translate") == "no":
            if tag not in self.VOID:
                self.skipping.append(tag)
            return
        self.parts += [str(found[name]) for name in self.SHOWN if found.get(name)]
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.parts.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def english_in(html: str) -> list[str]:
    """What is English in the page: catalogue messages and English words."""
    reader = Visible()
    reader.feed(html)
    text = "\n".join(reader.parts)
    found = [key for key, french in i18n.CATALOGUES["fr"].items()
             if key != french and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text)]  # fmt: skip
    found += [key for key in i18n.PATTERNS["fr"] if i18n.pattern(key).search(text)]
    words = {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH_WORDS}
    return found + sorted(words)


def paths(world: World, values: dict[str, Any]) -> list[str]:
    """Every GET page of the UI, its parameters filled in, with its query variants."""
    found = []
    for resource in world.client.server.app.router.resources():  # type: ignore[attr-defined]
        if not any(route.method == "GET" for route in resource):
            continue
        pattern = resource.canonical
        if not pattern.startswith("/ui/") or pattern.startswith(LEFT_OUT):
            continue
        for path in _filled(pattern, values):
            found += [path] + [path + q.format(**values) for q in QUERIES.get(pattern, [])]
    return found


def _filled(pattern: str, values: dict[str, Any]) -> list[str]:
    names = re.findall(r"\{(\w+)\}", pattern)
    if not names:
        return [pattern]
    own = next((p for prefix, p in PARAMS_UNDER.items() if pattern.startswith(prefix)), {})
    name = names[0]
    choices = own.get(name) or PARAMS.get(name)
    assert choices, f"{pattern}: give the French walk values for {{{name}}} (PARAMS)"
    found = []
    for choice in choices:
        found += _filled(pattern.replace(f"{{{name}}}", choice.format(**values), 1), values)
    return found


async def french_page(caller: Caller, path: str) -> tuple[int, str]:
    cookie = "; ".join(filter(None, (caller.headers().get("Cookie"), "tt_lang=fr")))
    response = await caller.world.client.get(path, headers={**caller.headers(), "Cookie": cookie})
    return response.status, await response.text()


async def busy_world(world: World, clock: Clock) -> dict[str, Any]:
    """A project with tasks in every state, a pending worker, a second manager, log lines;
    names of people and things in French (they are data, shown as they are)."""
    world.admin = await world.register("camille")
    world.project = await world.create_project("projet")
    for alias in ("ouvrier", "robot"):
        worker = await world.new_worker(alias)
        await world.grant(worker)
        world.workers.append(worker)
    for n in range(6):
        await world.submit(f"recette {n}")
    closed = await world.task()
    await world.release(closed["id"])
    failed = await world.task()
    await world.release(failed["id"], result=1)
    await world.task()  # one stays assigned
    pending = await world.new_worker("attente")
    await world.request_access(pending)
    await world.register("claire")
    await world.workers[0].post("/log/error", {"message": "échec", "timestamp": int(clock())})
    clock.advance(400)  # the recent window is a whole one
    return {"project": world.project, "task": failed["id"], "worker": pending.worker["id"]}


async def test_every_page_of_the_ui_in_french_has_no_english_left(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    values = await busy_world(world, clock)
    walked, english = 0, {}
    for caller in (world.admin, world.anonymous):
        for path in paths(world, values):
            status, html = await french_page(caller, path)
            assert status < 500, (path, status)
            walked += 1
            if left := english_in(html):
                english[f"{caller.name} {path}"] = left
    assert walked > 40
    assert not english, english


def test_the_check_finds_english_and_leaves_code_and_data_alone() -> None:
    assert english_in("<p>Tâches par seconde</p><code>the tasks</code>") == []
    assert english_in('<p><span translate="no">worker_id</span>: 3</p>') == []
    assert set(english_in("<p>Tasks closed per second</p>")) == {
        "Tasks closed per second",
        "Tasks",
        "closed",
    }
    assert set(english_in("<p>Deleted tasks: 3</p>")) == {"Deleted tasks: {count}", "tasks"}
    assert set(english_in('<input placeholder="Search the log">')) == {"Search", "log", "the"}
    assert english_in("<pre>closed</pre><p>Les tâches sont closes</p>") == []
