"""The git webhook over HTTP: a signed push to the tracked branch sets the project's version.

Signatures use the test vectors of behavior.md section 14.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import Caller, call, create_project, register, start
from tests.world import tracker_of
from tracker import config
from tracker.events.store import read_events

BODY = (
    b'{"ref": "refs/heads/master", "after": "new", '
    b'"repository": {"full_name": "username/repo_name"}}'
)
SECRET = "my-webhook-secret"
SHA256 = "df9b82e6171103cc15f9c953581c73fc9003242d733bfc12ddd69bc242a0c027"
SHA1 = "a93d0691b4993d47b9769fb49605ddac2b6adc5a"
HOOK = "/git/receivehook"


def settings_with(data_dir: Path, **git: str) -> config.Settings:
    return config.build(
        {
            "database": {"data_dir": str(data_dir)},
            "maintenance": {"reset_timed_out_tasks_interval": "1h"},
            "git": git,
        }
    )


def sign(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def push(
    ref: str = "refs/heads/master", after: str = "new", repo: str = "username/repo_name"
) -> bytes:
    return (
        f'{{"ref": "{ref}", "after": "{after}", "repository": {{"full_name": "{repo}"}}}}'
    ).encode()


async def hook(client: TestClient, body: bytes, signature: str | None,
               header: str = "X-Gogs-Signature") -> Any:  # fmt: skip
    headers = {header: signature} if signature is not None else {}
    return await call(client, "POST", HOOK, data=body, headers=headers)


async def version(client: TestClient, admin: Caller, project: int) -> str:
    answer = await call(client, "GET", f"/project/get/{project}", admin)
    return str(answer.content["project"]["version"])


async def _linked(client: TestClient) -> tuple[Caller, int, int]:
    """A project linked to username/repo_name with the vector's secret, and an unrelated one."""
    admin = await register(client, "admin")
    linked = await create_project(client, admin, "linked", git_repo="username/repo_name",
                                  version="old")  # fmt: skip
    other = await create_project(client, admin, "other", git_repo="someone/else", version="old")
    answer = await call(client, "POST", f"/project/webhook_secret/{linked}", admin,
                        json={"webhook_secret": SECRET})  # fmt: skip
    assert answer.ok is True
    return admin, linked, other


@pytest.fixture
async def client(aiohttp_client: Any, data_dir: Path, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings_with(data_dir), clock)


def test_the_vectors_of_section_14_are_what_hmac_gives() -> None:
    assert sign(BODY) == SHA256
    assert sign(BODY, algorithm="sha1") == SHA1


@pytest.mark.parametrize(
    "signature", [SHA256, f"sha256={SHA256}", SHA256.upper(), f"SHA256={SHA256}"]
)
async def test_a_signed_push_to_master_sets_the_version_of_that_project_only(
    client, clock, signature: str
) -> None:
    admin, linked, other = await _linked(client)
    clock.advance(60)
    answer = await hook(client, BODY, signature)
    assert (answer.status, answer.body) == (200, None)
    assert await version(client, admin, linked) == "new"
    assert await version(client, admin, other) == "old"
    last = [r async for r in read_events(tracker_of(client).store)][-1].event
    assert (type(last).__name__, last.actor, last.at) == ("ProjectVersionPushed", "webhook",
                                                          clock.now)  # fmt: skip
    assert (last.project_id, last.version) == (linked, "new")


async def test_github_style_sha1_signatures_work_when_configured(
    aiohttp_client, data_dir, clock
) -> None:
    settings = settings_with(data_dir, webhook_hash="sha1", webhook_sig_header="X-Hub-Signature")
    client = await start(aiohttp_client, settings, clock)
    admin, linked, _ = await _linked(client)
    answer = await hook(client, BODY, f"sha256={SHA256}", header="X-Hub-Signature")
    assert answer.status == 403  # a prefix must name the configured hash
    answer = await hook(client, BODY, f"sha1={SHA1}", header="X-Hub-Signature")
    assert (answer.status, answer.body) == (200, None)
    assert await version(client, admin, linked) == "new"


@pytest.mark.parametrize(
    "signature",
    [
        None,  # no header
        "",
        "0" * 64,
        SHA256[:-1],
        SHA256 + "0",
        f"sha1={SHA256}",  # the wrong algorithm named
        f"sha256={sign(BODY, 'another-secret')}",
        f"sha256={SHA1}",
        "sha256=",
        "=" * 3,
        "ü" * 10,
    ],
)
async def test_a_wrong_signature_is_403_and_changes_nothing(client, signature) -> None:
    admin, linked, _ = await _linked(client)
    before = tracker_of(client).state.position
    answer = await hook(client, BODY, signature)
    assert (answer.status, answer.body) == (403, "Signature does not match")
    assert tracker_of(client).state.position == before
    assert await version(client, admin, linked) == "old"


async def test_a_signature_from_the_wrong_header_is_ignored(client) -> None:
    await _linked(client)
    answer = await hook(client, BODY, SHA256, header="X-Hub-Signature")
    assert answer.status == 403


async def test_an_unknown_repository_is_answered_like_a_bad_signature(client) -> None:
    await _linked(client)
    body = push(repo="nobody/nothing")
    answer = await hook(client, body, sign(body))
    assert (answer.status, answer.body) == (403, "Signature does not match")


async def test_the_repository_name_matches_case_insensitively(client) -> None:
    admin, linked, _ = await _linked(client)
    body = push(repo="UserName/Repo_Name", after="abc123")
    assert (await hook(client, body, sign(body))).status == 200
    assert await version(client, admin, linked) == "abc123"


@pytest.mark.parametrize(
    "ref", ["refs/heads/notmaster", "refs/tags/master", "master", "refs/heads/master2", ""]
)
async def test_only_the_exact_tracked_branch_moves_the_version(client, ref: str) -> None:
    admin, linked, _ = await _linked(client)
    before = tracker_of(client).state.position
    body = push(ref=ref)
    answer = await hook(client, body, sign(body))
    assert answer.status == 400 and "refs/heads/master" in answer.body
    assert tracker_of(client).state.position == before
    assert await version(client, admin, linked) == "old"


async def test_the_tracked_branch_is_configurable(aiohttp_client, data_dir, clock) -> None:
    client = await start(aiohttp_client, settings_with(data_dir, webhook_branch="main"), clock)
    admin, linked, _ = await _linked(client)
    assert (await hook(client, BODY, sign(BODY))).status == 400
    body = push(ref="refs/heads/main", after="v2")
    assert (await hook(client, body, sign(body))).status == 200
    assert await version(client, admin, linked) == "v2"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"ref": 1}',
        b'{"ref": "refs/heads/master", "repository": "x"}',
        b'{"ref": "refs/heads/master", "repository": {"full_name": 5}}',
    ],
)
async def test_an_unreadable_payload_is_400_without_an_envelope(client, body: bytes) -> None:
    await _linked(client)
    before = tracker_of(client).state.position
    answer = await hook(client, body, sign(body))
    assert answer.status == 400 and isinstance(answer.body, str)
    assert answer.body.startswith("Could not parse request")
    assert tracker_of(client).state.position == before


async def test_a_push_of_the_current_version_appends_nothing(client) -> None:
    await _linked(client)
    assert (await hook(client, BODY, SHA256)).status == 200
    before = tracker_of(client).state.position
    assert (await hook(client, BODY, SHA256)).status == 200
    assert tracker_of(client).state.position == before


async def test_every_project_of_the_repository_signed_by_its_secret_is_updated(client) -> None:
    admin, linked, _ = await _linked(client)
    twin = await create_project(client, admin, "twin", git_repo="username/repo_name")
    stranger = await create_project(client, admin, "stranger", git_repo="username/repo_name")
    await call(client, "POST", f"/project/webhook_secret/{twin}", admin,
               json={"webhook_secret": SECRET})  # fmt: skip
    assert (await hook(client, BODY, SHA256)).status == 200
    assert [await version(client, admin, p) for p in (linked, twin, stranger)] == [
        "new", "new", "",
    ]  # fmt: skip


async def test_the_webhook_needs_no_session_and_ignores_one(client) -> None:
    admin, linked, _ = await _linked(client)
    answer = await call(client, "POST", HOOK, admin, data=BODY)  # a session is no signature
    assert answer.status == 403
    answer = await call(client, "GET", HOOK)
    assert answer.status == 404
