"""The git webhook over HTTP: a signed push to the tracked branch sets the project's version.

Signatures use the test vectors of behavior.md section 14.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.world import Answer, World, amend
from tracker.events.store import read_events

BODY = (
    b'{"ref": "refs/heads/master", "after": "new", '
    b'"repository": {"full_name": "username/repo_name"}}'
)
SECRET = "my-webhook-secret"
SHA256 = "df9b82e6171103cc15f9c953581c73fc9003242d733bfc12ddd69bc242a0c027"
SHA1 = "a93d0691b4993d47b9769fb49605ddac2b6adc5a"
HOOK = "/git/receivehook"


def sign(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def push(
    ref: str = "refs/heads/master", after: str = "new", repo: str = "username/repo_name"
) -> bytes:
    return (
        f'{{"ref": "{ref}", "after": "{after}", "repository": {{"full_name": "{repo}"}}}}'
    ).encode()


async def hook(world: World, body: bytes, signature: str | None,
               header: str = "X-Gogs-Signature") -> Answer:  # fmt: skip
    headers = {header: signature} if signature is not None else {}
    return await world.anonymous.post(HOOK, data=body, headers=headers)


async def version(world: World, project: int) -> str:
    answer = await world.admin.get(f"/project/get/{project}")
    return str(answer.content["project"]["version"])


async def linked_projects(world: World) -> tuple[int, int]:
    """A project linked to username/repo_name with the vector's secret, and an unrelated one."""
    linked = await world.create_project("linked", git_repo="username/repo_name", version="old")
    other = await world.create_project("other", git_repo="someone/else", version="old")
    answer = await world.admin.post(f"/project/webhook_secret/{linked}", {"webhook_secret": SECRET})
    assert answer.ok is True
    return linked, other


def test_the_vectors_of_section_14_are_what_hmac_gives() -> None:
    assert sign(BODY) == SHA256
    assert sign(BODY, algorithm="sha1") == SHA1


@pytest.mark.parametrize(
    "signature", [SHA256, f"sha256={SHA256}", SHA256.upper(), f"SHA256={SHA256}"]
)
async def test_a_signed_push_to_master_sets_the_version_of_that_project_only(
    world, clock, signature: str
) -> None:
    linked, other = await linked_projects(world)
    clock.advance(60)
    answer = await hook(world, BODY, signature)
    assert (answer.status, answer.body) == (200, None)
    assert await version(world, linked) == "new"
    assert await version(world, other) == "old"
    last = [r async for r in read_events(world.tracker.store)][-1].event
    assert (type(last).__name__, last.actor, last.at) == ("ProjectVersionPushed", "webhook",
                                                          clock.now)  # fmt: skip
    assert (last.project_id, last.version) == (linked, "new")


async def test_github_style_sha1_signatures_work_when_configured(make_client, settings) -> None:
    sha1 = amend(settings, git={"webhook_hash": "sha1", "webhook_sig_header": "X-Hub-Signature"})
    world = await (await World.start(make_client, sha1)).open()
    linked, _ = await linked_projects(world)
    answer = await hook(world, BODY, f"sha256={SHA256}", header="X-Hub-Signature")
    assert answer.status == 403  # a prefix must name the configured hash
    answer = await hook(world, BODY, f"sha1={SHA1}", header="X-Hub-Signature")
    assert (answer.status, answer.body) == (200, None)
    assert await version(world, linked) == "new"


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
async def test_a_wrong_signature_is_403_and_changes_nothing(world, signature) -> None:
    linked, _ = await linked_projects(world)
    before = world.position()
    answer = await hook(world, BODY, signature)
    assert (answer.status, answer.body) == (403, "Signature does not match")
    assert world.position() == before
    assert await version(world, linked) == "old"


async def test_a_signature_from_the_wrong_header_is_ignored(world) -> None:
    await linked_projects(world)
    answer = await hook(world, BODY, SHA256, header="X-Hub-Signature")
    assert answer.status == 403


async def test_an_unknown_repository_is_answered_like_a_bad_signature(world) -> None:
    await linked_projects(world)
    body = push(repo="nobody/nothing")
    answer = await hook(world, body, sign(body))
    assert (answer.status, answer.body) == (403, "Signature does not match")


async def test_the_repository_name_matches_case_insensitively(world) -> None:
    linked, _ = await linked_projects(world)
    body = push(repo="UserName/Repo_Name", after="abc123")
    assert (await hook(world, body, sign(body))).status == 200
    assert await version(world, linked) == "abc123"


@pytest.mark.parametrize(
    "ref", ["refs/heads/notmaster", "refs/tags/master", "master", "refs/heads/master2", ""]
)
async def test_only_the_exact_tracked_branch_moves_the_version(world, ref: str) -> None:
    linked, _ = await linked_projects(world)
    before = world.position()
    body = push(ref=ref)
    answer = await hook(world, body, sign(body))
    assert answer.status == 400 and "refs/heads/master" in answer.body
    assert world.position() == before
    assert await version(world, linked) == "old"


async def test_the_tracked_branch_is_configurable(make_client, settings) -> None:
    main = amend(settings, git={"webhook_branch": "main"})
    world = await (await World.start(make_client, main)).open()
    linked, _ = await linked_projects(world)
    assert (await hook(world, BODY, sign(BODY))).status == 400
    body = push(ref="refs/heads/main", after="v2")
    assert (await hook(world, body, sign(body))).status == 200
    assert await version(world, linked) == "v2"


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
async def test_an_unreadable_payload_is_400_without_an_envelope(world, body: bytes) -> None:
    await linked_projects(world)
    before = world.position()
    answer = await hook(world, body, sign(body))
    assert answer.status == 400 and isinstance(answer.body, str)
    assert answer.body.startswith("Could not parse request")
    assert world.position() == before


async def test_a_push_of_the_current_version_appends_nothing(world) -> None:
    await linked_projects(world)
    assert (await hook(world, BODY, SHA256)).status == 200
    before = world.position()
    assert (await hook(world, BODY, SHA256)).status == 200
    assert world.position() == before


async def test_every_project_of_the_repository_signed_by_its_secret_is_updated(world) -> None:
    linked, _ = await linked_projects(world)
    twin = await world.create_project("twin", git_repo="username/repo_name")
    stranger = await world.create_project("stranger", git_repo="username/repo_name")
    await world.admin.post(f"/project/webhook_secret/{twin}", {"webhook_secret": SECRET})
    assert (await hook(world, BODY, SHA256)).status == 200
    assert [await version(world, p) for p in (linked, twin, stranger)] == [
        "new", "new", "",
    ]  # fmt: skip


async def test_the_webhook_needs_no_session_and_ignores_one(world) -> None:
    await linked_projects(world)
    answer = await world.admin.post(HOOK, data=BODY)  # a session is no signature
    assert answer.status == 403
    answer = await world.anonymous.get(HOOK)
    assert answer.status == 404
