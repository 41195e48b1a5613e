"""A JSON object that repeats a key is refused with 400 and a message on every route that reads
a JSON body, the task routes served by the worker lane included; nothing is appended
(issue 11; docs/compatibility.md)."""

from __future__ import annotations

import pytest

from tests.world import World

#: Every route that reads a JSON body, with a body whose first key is written twice.
REPEATED = [
    ("/worker/create", '{"alias": "a", "alias": "b"}'),
    ("/worker/update", '{"alias": "a", "alias": "b"}'),
    ("/task/submit", '{"project": 1, "recipe": "r", "project": 2}'),
    ("/task/bulk_submit", '{"requests": [{"project": 1, "recipe": "r", "project": 2}]}'),
    ("/task/bulk_submit", '{"requests": [], "requests": [{"project": 1, "recipe": "r"}]}'),
    ("/task/release", '{"task_id": 1, "result": 0, "task_id": 2}'),
    ("/project/create", '{"name": "p", "name": "q"}'),
    ("/project/request_access", '{"project": 1, "assign": true, "project": 2}'),
    ("/project/update/{project}", '{"name": "p", "name": "q"}'),
    ("/project/secret/{project}", '{"secret": "a", "secret": "b"}'),
    ("/project/webhook_secret/{project}", '{"webhook_secret": "a", "webhook_secret": "b"}'),
    ("/manager/set_role_for_project/{project}", '{"manager": 1, "role": 1, "role": 7}'),
    ("/worker/set_paused", '{"worker": 1, "paused": true, "paused": false}'),
    ("/register", '{"username": "someone", "password": "password1", "username": "admin"}'),
    ("/login", '{"username": "nobody", "password": "password1", "username": "admin"}'),
    ("/logs", '{"level": 3, "since": 1, "since": 2}'),
    ("/log/error", '{"message": "a", "message": "b"}'),
]


@pytest.mark.parametrize(("path", "body"), REPEATED)
async def test_a_repeated_key_is_refused_with_400_and_nothing_is_appended(
    world: World, path: str, body: str
) -> None:
    before = await world.log_head()
    url = path.format(project=world.project)
    # the admin's session and a worker's headers: each route gets as far as reading its body
    answer = await world.admin.post(url, data=body, headers=world.worker.headers())
    assert answer.status == 400, answer
    assert answer["ok"] is False
    assert "is repeated in an object" in answer["message"], answer
    assert await world.log_head() == before


async def test_the_webhook_refuses_a_repeated_key_with_its_plain_400(world: World) -> None:
    body = '{"ref": "refs/heads/master", "ref": "refs/heads/other", "after": "x"}'
    answer = await world.anonymous.post("/git/receivehook", data=body)
    assert answer.status == 400
    assert answer.body == 'Could not parse request: the key "ref" is repeated in an object'


@pytest.mark.parametrize(
    "body",
    [
        '{"project": 1, "recipe": "r", "\\u0070roject": 2}',  # the same key, spelled with escapes
        '{"recipe": "a:b:c", "project": 1, "project": 1}',  # colons in strings, same value twice
        '{"recipe": "{\\"x\\": 1}", "project": 1, "recipe": "s"}',
    ],
    ids=["escaped", "same value", "json in a string"],
)
async def test_a_repeated_key_is_found_however_it_is_written(world: World, body: str) -> None:
    answer = await world.worker.post("/task/submit", data=body)
    assert answer.status == 400, answer
    assert answer["message"].endswith("is repeated in an object"), answer


@pytest.mark.parametrize(
    "recipe",
    ["a:b", '{"key": "value", "key2": ["x:y"]}', "\\u003a", ":" * 100],
    ids=["colon", "json text", "escaped colon", "many colons"],
)
async def test_colons_inside_strings_are_no_repeated_key(world: World, recipe: str) -> None:
    answer = await world.submit(recipe)
    assert answer == {"ok": True}
    assert (await world.task())["recipe"] == recipe


async def test_the_same_key_in_two_objects_is_not_a_repeat(world: World) -> None:
    body = {"requests": [{"project": world.project, "recipe": f"r{n}"} for n in range(3)]}
    answer = await world.worker.post("/task/bulk_submit", body, status=200)
    assert answer == {"ok": True}
