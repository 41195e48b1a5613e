"""Checkpoint files of real read models: what is loaded equals what was saved, the file is a
small fraction of the state it saves, its digests come from the file alone, and a damaged,
truncated or older-format file is refused, never trusted."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from pathlib import Path

import msgspec
import pytest

from tests.state_snapshot import snapshot as picture
from tracker import config
from tracker.audit.replay import checkpoint_digests
from tracker.checkpoints import fileformat
from tracker.checkpoints.directory import fingerprint
from tracker.events import managers, projects, tasks, workers
from tracker.events.base import SYSTEM, manager_actor, worker_actor
from tracker.projections import digest, project_status, snapshot
from tracker.projections.state import State
from tracker.startup.replay import read_models

T0 = 1_700_000_000.0
SETTINGS = config.build({})
FINGERPRINT = fingerprint(SETTINGS)
TASKS = snapshot.CHUNK + 4_464  # more than one chunk: written as a keyed blob, in two chunks


def folded(count: int = TASKS) -> State:
    """Read models folded from real events: a project, a worker, ``count`` bulk-submitted
    tasks, some assigned, one closed, one failed for good, one voted on."""
    state = read_models(SETTINGS)
    state.apply(managers.ManagerRegistered(at=T0, actor=SYSTEM, manager_id=1, username="admin",
                                           password_hash="x", tracker_admin=True))  # fmt: skip
    state.apply(projects.ProjectCreated(
        at=T0, actor=manager_actor(1), project_id=1, name="p", clone_url="", git_repo="",
        version="1", priority=0, motd="", public=True, hidden=False, chain=0, assign_rate=0.0,
        submit_rate=0.0, webhook_secret="w", creator=1))  # fmt: skip
    state.apply(workers.WorkerCreated(at=T0, actor=SYSTEM, worker_id=1, alias="w", secret=b"s"))
    for first in range(1, count + 1, 1000):
        size = min(1000, count + 1 - first)
        state.apply(tasks.TasksSubmitted(
            at=T0, actor=worker_actor(1), project_id=1, first_task_id=first,
            tasks=[tasks.NewTask(recipe=f"task {first + i}", priority=(first + i) % 3,
                                 max_retries=1, verification_count=1 + (i == 7))
                   for i in range(size)]))  # fmt: skip
    board = state.tasks
    for n in range(4):
        task = board.next_for(1, 1)
        assert task is not None
        state.apply(tasks.TaskAssigned(at=T0 + n, actor=worker_actor(1), task_id=task.id,
                                       project_id=1, worker_id=1, deadline=T0 + 300))  # fmt: skip
        outcome = [tasks.Outcome.CLOSED, tasks.Outcome.FAILED, tasks.Outcome.RETRY, None][n]
        if outcome is not None:
            state.apply(tasks.TaskReleased(at=T0 + n, actor=worker_actor(1), task_id=task.id,
                                           project_id=1, worker_id=1, result=0,
                                           outcome=outcome))  # fmt: skip
    return state


async def anchor(position: int) -> bytes:
    return bytes(32)


def written(state: State, path: Path, fork: bool = True) -> fileformat.Written:
    return asyncio.run(fileformat.write(state, path, FINGERPRINT, anchor, fork,
                                        project_status.of_state))  # fmt: skip


def loaded(path: Path) -> State:
    state = read_models(SETTINGS)
    fileformat.restore(asyncio.run(fileformat.load(path, FINGERPRINT)), state)
    return state


@pytest.fixture(scope="module")
def state() -> State:
    return folded()


@pytest.mark.parametrize("fork", [True, False], ids=["forked writer", "on the event loop"])
def test_a_loaded_checkpoint_is_the_state_that_was_saved(
    state: State, tmp_path: Path, fork: bool
) -> None:
    path = tmp_path / "c.ckpt"

    written(state, path, fork)
    restored = loaded(path)

    assert digest.compute(restored) == digest.compute(state)
    assert picture(restored) == picture(state)
    assert list(restored.tasks.tasks) == list(state.tasks.tasks)  # insertion order too
    assert restored.tasks.next_for(1, 1) == state.tasks.next_for(1, 1)
    # the dict of tasks is rebuilt from its values: each key is its task's own id object
    assert all(key is task.id for key, task in restored.tasks.tasks.items())


def test_a_checkpoint_is_a_small_fraction_of_the_image_it_saves(
    state: State, tmp_path: Path
) -> None:
    path = tmp_path / "c.ckpt"
    image = sum(len(data) for _, model in snapshot.models(state)
                for data in digest.image(model, "model"))  # fmt: skip

    size = written(state, path).size

    assert size == path.stat().st_size
    assert size * 5 < image, (size, image)


def test_digests_from_the_file_equal_those_of_the_models(state: State, tmp_path: Path) -> None:
    path = tmp_path / "c.ckpt"
    written(state, path)

    position, found = asyncio.run(checkpoint_digests(path, FINGERPRINT))

    assert position == state.position
    assert found == digest.compute(state)


def test_the_summary_holds_every_projects_status(state: State, tmp_path: Path) -> None:
    path = tmp_path / "c.ckpt"
    written(state, path)

    position, payload = asyncio.run(fileformat.summary(path, FINGERPRINT))
    kind = dict[int, tuple[int, project_status.ProjectStatus]]
    summary = msgspec.msgpack.decode(payload, type=kind)

    assert position == state.position
    held, status = summary[1]
    assert status == project_status.of_state(state)[1][1]
    assert (status.closed, len(status.failed), len(status.assigned)) == (1, 1, 1)
    assert held == 2 and status.queued == TASKS - 3


def test_a_dict_whose_keys_are_not_its_values_field_is_written_whole(tmp_path: Path) -> None:
    state = folded(snapshot.CHUNK + 10)
    board = state.tasks.tasks
    board[10**9] = board.pop(5)  # key and id differ for one entry: no keyed blob
    path = tmp_path / "c.ckpt"

    written(state, path)

    assert loaded(path).tasks.tasks == board
    assert digest.compute(loaded(path)) == digest.compute(state)


def damaged_copies(path: Path, tmp_path: Path) -> list[Path]:
    """Copies of ``path`` with one byte flipped in each part of it, and truncated ones."""
    content = path.read_bytes()
    trailer = fileformat.peek(path)
    size = len(content)
    spots = {"magic": 3, "header": len(fileformat.MAGIC) + 12, "body": size // 3,
             "late body": size * 2 // 3, "trailer": size - 20}  # fmt: skip
    copies = []
    for name, spot in spots.items():
        broken = bytearray(content)
        broken[spot] ^= 0x40
        copies.append(tmp_path / f"flipped-{name}.ckpt")
        copies[-1].write_bytes(bytes(broken))
    for keep in (size // 2, size - 30):
        copies.append(tmp_path / f"cut-{keep}.ckpt")
        copies[-1].write_bytes(content[:keep])
    assert trailer.position  # the original reads
    return copies


def test_a_damaged_or_truncated_checkpoint_is_refused_by_every_reader(
    state: State, tmp_path: Path
) -> None:
    path = tmp_path / "c.ckpt"
    written(state, path)

    for copy in damaged_copies(path, tmp_path):
        for read in (
            lambda p: fileformat.load(p, FINGERPRINT),
            lambda p: fileformat.summary(p, FINGERPRINT),
            lambda p: checkpoint_digests(p, FINGERPRINT),
        ):
            with pytest.raises(fileformat.InvalidCheckpoint):
                asyncio.run(read(copy))


def format_1(state: State, path: Path, position_hash: bytes) -> None:
    """A checkpoint as versions before format 2 wrote it: one uncompressed msgpack header
    with every model's node, the chunks of its big containers, then the same trailer."""
    plan = snapshot.Plan()
    nodes = [(name, plan.node(model, name)) for name, model in snapshot.models(state)]
    blobs = [(kind, expr, -(-len(c) // snapshot.CHUNK)) for c, kind, expr in plan.blobs]
    header = snapshot.encode({"format": 1, "fingerprint": FINGERPRINT, "position": state.position,
                              "created": T0, "models": nodes, "blobs": blobs})  # fmt: skip
    body = bytearray(b"TRACKER-CHECKPOINT\n\x01")
    body += len(header).to_bytes(8, "big") + header
    for container, kind, _ in plan.blobs:
        for chunk in snapshot.chunks(container, kind):
            body += len(chunk).to_bytes(8, "big") + chunk
    digest_ = hashlib.blake2b(bytes(body), digest_size=32).digest()
    trailer = snapshot.encode(fileformat.Trailer(state.position, position_hash, digest_))
    body += trailer + zlib.crc32(trailer).to_bytes(4, "big") + len(trailer).to_bytes(8, "big")
    path.write_bytes(bytes(body))


def test_a_format_1_checkpoint_still_anchors_but_is_not_loaded(tmp_path: Path) -> None:
    state, path = folded(100), tmp_path / "old.ckpt"
    format_1(state, path, b"\x07" * 32)

    trailer = fileformat.peek(path)

    assert (trailer.position, trailer.log_hash) == (state.position, b"\x07" * 32)
    with pytest.raises(fileformat.InvalidCheckpoint, match="format 1 by an earlier version"):
        asyncio.run(fileformat.load(path, FINGERPRINT))
