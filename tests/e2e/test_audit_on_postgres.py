"""The audit features on a PostgreSQL log: the same tests as on SQLite, re-run here with the
log in a PostgreSQL schema of the test's own (``database.conn_str``), through the real app and,
for ``tracker audit replay``, a real command-line process.

Change feed, task history (its index is a local file beside the PostgreSQL log), time travel,
live digests against a fresh replay, checkpoints and restarts from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e import (
    test_audit_replay,
    test_checkpoint_restart,
    test_event_feed,
    test_task_history,
    test_time_travel,
)
from tests.e2e.scripted_run import audit_settings, config_file
from tracker import config


def on_postgres(dsn: str, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    database = {"conn_str": dsn, **sections.pop("database", {})}
    return {"database": database, **sections}


@pytest.fixture
def settings(data_dir: Path, pg_dsn: str) -> config.Settings:
    return audit_settings(data_dir, **on_postgres(pg_dsn))


@pytest.fixture
def config_path(tmp_path: Path, data_dir: Path, pg_dsn: str) -> str:
    path = tmp_path / "tracker.json"
    return config_file(path, data_dir, **on_postgres(pg_dsn))


#: The time-travel tests start from their module's own world (three workers on "alpha").
world = test_time_travel.world


def _collect(module: Any, *names: str) -> None:
    for name in names:
        globals()[f"{name}_on_postgres"] = getattr(module, name)


_collect(
    test_event_feed,
    "test_the_token_pages_through_every_durable_event_in_order",
    "test_a_manager_sees_exactly_the_events_of_projects_they_may_read",
    "test_a_long_poll_returns_as_soon_as_a_new_event_is_durable",
)
_collect(
    test_task_history,
    "test_the_history_lists_every_event_of_a_closed_task_in_order",
    "test_a_chain_copy_has_its_own_history_starting_from_its_origin",
    "test_a_long_history_comes_in_pages",
)
_collect(
    test_time_travel,
    "test_counts_queue_depth_and_assignees_as_of_each_position",
    "test_a_time_names_the_last_event_decided_at_or_before_it",
)
_collect(
    test_audit_replay,
    "test_a_fresh_replay_matches_the_running_tracker_after_a_long_run",
    "test_a_replay_names_the_read_model_and_key_a_live_state_got_wrong",
    "test_a_replay_matches_a_checkpoint_and_names_an_entry_a_bad_checkpoint_holds",
)
_collect(
    test_checkpoint_restart,
    "test_a_restart_loads_the_shutdown_checkpoint_and_has_the_same_state",
    "test_without_a_checkpoint_a_full_replay_gives_the_same_state",
    "test_the_checkpoint_job_writes_after_enough_events_and_keeps_the_newest",
)
