"""A JSON object that repeats a key is refused with 400 and a message on every route that reads
a JSON body, the task routes served by the worker lane included; nothing is appended
(issue 11; docs/compatibility.md)."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import Desk, log_head, open_desk, worker_headers


@pytest.fixture
async def desk(api: Api) -> Desk:
    return await open_desk(api, workers=1)


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
    desk: Desk, path: str, body: str
) -> None:
    before = await log_head(desk.api)
    url = path.format(project=desk.project)
    response = await desk.client.post(url, data=body, headers=worker_headers(desk.worker))
    answer = await response.json()
    assert response.status == 400, answer
    assert answer["ok"] is False
    assert "is repeated in an object" in answer["message"], answer
    assert await log_head(desk.api) == before


async def test_the_webhook_refuses_a_repeated_key_with_its_plain_400(desk: Desk) -> None:
    body = '{"ref": "refs/heads/master", "ref": "refs/heads/other", "after": "x"}'
    response = await desk.client.post("/git/receivehook", data=body)
    assert response.status == 400
    assert (
        await response.text() == 'Could not parse request: the key "ref" is repeated in an object'
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"project": 1, "recipe": "r", "\\u0070roject": 2}',  # the same key, spelled with escapes
        '{"recipe": "a:b:c", "project": 1, "project": 1}',  # colons in strings, same value twice
        '{"recipe": "{\\"x\\": 1}", "project": 1, "recipe": "s"}',
    ],
    ids=["escaped", "same value", "json in a string"],
)
async def test_a_repeated_key_is_found_however_it_is_written(desk: Desk, body: str) -> None:
    response = await desk.client.post(
        "/task/submit", data=body, headers=worker_headers(desk.worker)
    )
    answer = await response.json()
    assert response.status == 400, answer
    assert answer["message"].endswith("is repeated in an object"), answer


@pytest.mark.parametrize(
    "recipe",
    ["a:b", '{"key": "value", "key2": ["x:y"]}', "\\u003a", ":" * 100],
    ids=["colon", "json text", "escaped colon", "many colons"],
)
async def test_colons_inside_strings_are_no_repeated_key(desk: Desk, recipe: str) -> None:
    answer = await desk.submit(recipe)
    assert answer == {"ok": True}
    assert (await desk.task())["recipe"] == recipe


async def test_the_same_key_in_two_objects_is_not_a_repeat(desk: Desk) -> None:
    body = {"requests": [{"project": desk.project, "recipe": f"r{n}"} for n in range(3)]}
    answer = await desk.api.call("POST", "/task/bulk_submit", body, worker=desk.worker, status=200)
    assert answer == {"ok": True}
