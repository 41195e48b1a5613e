"""Fast restart: read models from the newest usable checkpoint plus the tail of the log give
the same state as a full replay; a missing, damaged or foreign checkpoint is not used."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import audit_settings, round_of_work, scripted_run
from tests.world import MakeClient, World
from tracker import config
from tracker.audit.runtime import CHECKPOINT_JOB
from tracker.checkpoints.directory import DIRECTORY
from tracker.http.keys import AUDIT, SCHEDULER
from tracker.projections import digest


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


def checkpoint_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / DIRECTORY).glob("checkpoint-*.ckpt"))


async def run_and_stop(world: World, clock: Clock) -> tuple[dict, int]:
    """A scripted run; the digests and position of its state; then a clean shutdown."""
    await scripted_run(world, clock, rounds=4)
    digests, position = digest.compute(world.tracker.state), world.position()
    await world.client.close()
    return digests, position


def loaded(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tracker.checkpoints.directory"]


async def test_a_restart_loads_the_shutdown_checkpoint_and_has_the_same_state(
    bare_world: World, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = bare_world
    digests, position = await run_and_stop(world, clock)
    assert [p.name for p in checkpoint_files(data_dir)] == [f"checkpoint-{position:020d}.ckpt"]
    caplog.set_level(logging.INFO)

    await world.restart()

    assert digest.compute(world.tracker.state) == digests
    assert f"loaded the checkpoint at position {position}" in loaded(caplog)[0]
    assert "replayed 0 events" in caplog.text


async def test_without_a_checkpoint_a_full_replay_gives_the_same_state(
    bare_world: World, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = bare_world
    digests, position = await run_and_stop(world, clock)
    shutil.rmtree(data_dir / DIRECTORY)
    caplog.set_level(logging.INFO)

    await world.restart()

    assert digest.compute(world.tracker.state) == digests
    assert f"replayed {position} events" in caplog.text
    assert not loaded(caplog)


async def test_a_damaged_checkpoint_is_refused_and_a_full_replay_gives_the_same_state(
    bare_world: World, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = bare_world
    digests, position = await run_and_stop(world, clock)
    [path] = checkpoint_files(data_dir)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    caplog.set_level(logging.INFO)

    await world.restart()

    assert digest.compute(world.tracker.state) == digests
    assert "checkpoint not used" in loaded(caplog)[0]
    assert f"replayed {position} events" in caplog.text


async def test_a_restart_replays_only_the_tail_after_the_checkpoint(
    make_client: MakeClient, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = audit_settings(data_dir, checkpoint={"on_shutdown": False})
    world = await World.start(make_client, quiet)
    people = await scripted_run(world, clock, rounds=3)
    written = await world.client.server.app[AUDIT].checkpointer.write()
    assert written is not None and written.pause >= 0
    await round_of_work(world, clock, people, 3)
    digests, position = digest.compute(world.tracker.state), world.position()
    await world.client.close()
    caplog.set_level(logging.INFO)

    await world.restart(quiet)

    assert digest.compute(world.tracker.state) == digests
    assert f"loaded the checkpoint at position {written.position}" in loaded(caplog)[0]
    assert f"replayed {position - written.position} events" in caplog.text


async def test_a_checkpoint_of_another_log_is_not_used(
    bare_world: World, make_client: MakeClient, clock: Clock, data_dir: Path, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await run_and_stop(bare_world, clock)
    other = tmp_path / "other"
    world = await World.start(make_client, audit_settings(other))
    await scripted_run(world, clock, rounds=5)  # a longer, different log
    digests = digest.compute(world.tracker.state)
    await world.client.close()
    shutil.rmtree(other / DIRECTORY)
    shutil.copytree(data_dir / DIRECTORY, other / DIRECTORY)
    caplog.set_level(logging.INFO)

    await world.restart(audit_settings(other))

    assert "differs (another log)" in loaded(caplog)[0]
    assert digest.compute(world.tracker.state) == digests


async def test_changed_read_model_settings_make_a_checkpoint_unusable(
    bare_world: World, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await run_and_stop(bare_world, clock)
    caplog.set_level(logging.INFO)

    await bare_world.restart(audit_settings(data_dir, monitoring={"snapshot_interval": "30s"}))

    assert "fingerprint differs" in loaded(caplog)[0]


async def test_the_checkpoint_job_writes_after_enough_events_and_keeps_the_newest(
    make_client: MakeClient, clock: Clock, data_dir: Path
) -> None:
    settings = audit_settings(data_dir, checkpoint={"every_events": 20, "interval": 0, "keep": 2})
    world = await World.start(make_client, settings)
    app = world.client.server.app
    app[SCHEDULER].remove(CHECKPOINT_JOB)  # the test ticks; the job would race it on a slow machine
    checkpointer = app[AUDIT].checkpointer
    people = await scripted_run(world, clock, rounds=1)
    assert (await checkpointer.tick()) is not None
    assert (await checkpointer.tick()) is None  # nothing new since

    positions = []
    for n in range(1, 4):
        await round_of_work(world, clock, people, n)
        written = await checkpointer.tick()
        assert written is not None
        positions.append(written.position)

    assert [p.name for p in checkpoint_files(data_dir)] == [
        f"checkpoint-{p:020d}.ckpt" for p in positions[-2:]
    ]
    answer = await world.anonymous.get("/project/list")
    assert answer.status == 200
