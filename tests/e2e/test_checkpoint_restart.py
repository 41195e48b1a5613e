"""Fast restart: read models from the newest usable checkpoint plus the tail of the log give
the same state as a full replay; a missing, damaged or foreign checkpoint is not used."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import call, start
from tests.e2e.scripted_run import audit_settings, round_of_work, scripted_run
from tests.world import tracker_of
from tracker import config
from tracker.checkpoints.directory import DIRECTORY
from tracker.http.routes.audit import AUDIT
from tracker.projections import digest

Start = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
def launch(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> Start:
    async def launch(app_settings: config.Settings | None = None) -> TestClient:
        return await start(aiohttp_client, app_settings or settings, clock)

    return launch


def checkpoint_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / DIRECTORY).glob("checkpoint-*.ckpt"))


async def run_and_stop(launch: Start, clock: Clock) -> tuple[dict, int]:
    """A scripted run; the digests and position of its state; then a clean shutdown."""
    client = await launch()
    await scripted_run(client, clock, rounds=4)
    state = tracker_of(client).state
    digests, position = digest.compute(state), state.position
    await client.close()
    return digests, position


def loaded(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tracker.checkpoints.directory"]


async def test_a_restart_loads_the_shutdown_checkpoint_and_has_the_same_state(
    launch: Start, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    digests, position = await run_and_stop(launch, clock)
    assert [p.name for p in checkpoint_files(data_dir)] == [f"checkpoint-{position:020d}.ckpt"]
    caplog.set_level(logging.INFO)

    client = await launch()

    assert digest.compute(tracker_of(client).state) == digests
    assert f"loaded the checkpoint at position {position}" in loaded(caplog)[0]
    assert "replayed 0 events" in caplog.text


async def test_without_a_checkpoint_a_full_replay_gives_the_same_state(
    launch: Start, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    digests, position = await run_and_stop(launch, clock)
    shutil.rmtree(data_dir / DIRECTORY)
    caplog.set_level(logging.INFO)

    client = await launch()

    assert digest.compute(tracker_of(client).state) == digests
    assert f"replayed {position} events" in caplog.text
    assert not loaded(caplog)


async def test_a_damaged_checkpoint_is_refused_and_a_full_replay_gives_the_same_state(
    launch: Start, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    digests, position = await run_and_stop(launch, clock)
    [path] = checkpoint_files(data_dir)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    caplog.set_level(logging.INFO)

    client = await launch()

    assert digest.compute(tracker_of(client).state) == digests
    assert "checkpoint not used" in loaded(caplog)[0]
    assert f"replayed {position} events" in caplog.text


async def test_a_restart_replays_only_the_tail_after_the_checkpoint(
    launch: Start, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture,
    settings: config.Settings,
) -> None:  # fmt: skip
    quiet = audit_settings(data_dir, checkpoint={"on_shutdown": False})
    client = await launch(quiet)
    people = await scripted_run(client, clock, rounds=3)
    written = await client.server.app[AUDIT].checkpointer.write()
    assert written is not None and written.pause >= 0
    await round_of_work(client, clock, people, 3)
    state = tracker_of(client).state
    digests, position = digest.compute(state), state.position
    await client.close()
    caplog.set_level(logging.INFO)

    client = await launch(quiet)

    assert digest.compute(tracker_of(client).state) == digests
    assert f"loaded the checkpoint at position {written.position}" in loaded(caplog)[0]
    assert f"replayed {position - written.position} events" in caplog.text


async def test_a_checkpoint_of_another_log_is_not_used(
    launch: Start, clock: Clock, data_dir: Path, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, aiohttp_client: Any,
) -> None:  # fmt: skip
    await run_and_stop(launch, clock)
    other = tmp_path / "other"
    client = await start(aiohttp_client, audit_settings(other), clock)
    await scripted_run(client, clock, rounds=5)  # a longer, different log
    digests = digest.compute(tracker_of(client).state)
    await client.close()
    shutil.rmtree(other / DIRECTORY)
    shutil.copytree(data_dir / DIRECTORY, other / DIRECTORY)
    caplog.set_level(logging.INFO)

    client = await start(aiohttp_client, audit_settings(other), clock)

    assert "differs (another log)" in loaded(caplog)[0]
    assert digest.compute(tracker_of(client).state) == digests


async def test_changed_read_model_settings_make_a_checkpoint_unusable(
    launch: Start, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await run_and_stop(launch, clock)
    caplog.set_level(logging.INFO)

    await launch(audit_settings(data_dir, monitoring={"snapshot_interval": "30s"}))

    assert "fingerprint differs" in loaded(caplog)[0]


async def test_the_checkpoint_job_writes_after_enough_events_and_keeps_the_newest(
    launch: Start, clock: Clock, data_dir: Path
) -> None:
    settings = audit_settings(data_dir, checkpoint={"every_events": 20, "interval": 0, "keep": 2})
    client = await launch(settings)
    checkpointer = client.server.app[AUDIT].checkpointer
    people = await scripted_run(client, clock, rounds=1)
    assert (await checkpointer.tick()) is not None
    assert (await checkpointer.tick()) is None  # nothing new since

    positions = []
    for n in range(1, 4):
        await round_of_work(client, clock, people, n)
        written = await checkpointer.tick()
        assert written is not None
        positions.append(written.position)

    assert [p.name for p in checkpoint_files(data_dir)] == [
        f"checkpoint-{p:020d}.ckpt" for p in positions[-2:]
    ]
    answer = await call(client, "GET", "/project/list")
    assert answer.status == 200
