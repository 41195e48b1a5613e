"""``tracker work --project N -- COMMAND`` as an operator runs it, against a real server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.client import history
from tests.client.conftest import World, world_in
from tests.processes import ROOT, Servers, command, environment
from tests.waiting import eventually, suspended_in, wait_until
from tracker.client import NewTask, identity
from tracker.client.command import Command, verification
from tracker.client.reasons import MAX_REASON_BYTES
from tracker.client.worker import Worker


def _work(world: World, tmp_path: Path, *options: str) -> list[str]:
    path = tmp_path / "identity.json"
    if not path.exists():
        identity.write(path, world.identity, world.server.url, "tester")
    return command("work", "--url", world.server.url, "--project", str(world.project),
                   "--identity", str(path), *options)  # fmt: skip


def _recipes(events: list[dict]) -> dict[int, str]:
    out = {}
    for record in events:
        if record["type"] == "TasksSubmitted":
            first = record["event"]["first_task_id"]
            for i, task in enumerate(record["event"]["tasks"]):
                out[first + i] = task["recipe"]
    return out


def test_each_task_runs_the_command_with_the_recipe_on_stdin(world: World, tmp_path: Path) -> None:
    world.worker.bulk_submit([
        NewTask(project=world.project, recipe="alpha"),
        NewTask(project=world.project, recipe="beta"),
        NewTask(project=world.project, recipe="fail", max_retries=1),
    ])  # fmt: skip
    script = 'x=$(cat); [ "$x" != fail ] && printf %s "$x"'
    done = subprocess.run(
        _work(world, tmp_path, "--until-empty", "--concurrency", "2", "--", "sh", "-c", script),
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "released 2 OK (2 closed), 1 FAIL, 0 SKIP" in done.stderr
    events = world.server.events()
    recipes = _recipes(events)
    closed = history.verifications(events)
    assert {recipes[task] for task in closed} == {"alpha", "beta"}
    assert all(value == verification(recipes[task].encode()) for task, value in closed.items())
    assert [recipes[task] for task in history.releases(events, "failed")] == ["fail"]


def test_no_command_is_a_usage_error(world: World, tmp_path: Path) -> None:
    done = subprocess.run(_work(world, tmp_path), cwd=ROOT, env=environment(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "give the command after --" in done.stderr


@pytest.mark.slow
def test_sigterm_mid_run_releases_held_tasks_skip_and_loses_nothing(
    world: World, tmp_path: Path
) -> None:
    total = 300
    world.worker.bulk_submit([NewTask(project=world.project, recipe=f"slow {i}")
                              for i in range(total)])  # fmt: skip
    pids = tmp_path / "pids"
    script = f"echo $$ >> {pids}; cat > /dev/null; sleep 0.3"  # each task takes a while: the
    # scenario is a worker stopped with commands still running
    worker = subprocess.Popen(
        _work(world, tmp_path, "--concurrency", "8", "--", "sh", "-c", script),
        cwd=ROOT, env=environment(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: worker.poll() is not None or _closed(world) >= 40, within=60,
                   what="40 tasks closed by tracker work")  # fmt: skip
        assert worker.poll() is None, worker.communicate()
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    events = world.server.events()
    closes, skips = history.releases(events, "closed"), history.releases(events, "skipped")
    assert set(closes.values()) == {1}
    assert 1 <= sum(skips.values()) <= 8 and set(skips).isdisjoint(closes)
    held = {a.assignee: a.task_count for a in world.admin.assignees(world.project)}
    assert held == {"unassigned": total - len(closes)}  # nothing left assigned
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # every command process ended
    assert f"released {len(closes)} OK ({len(closes)} closed)" in stderr

    rest = Worker(world.server.url, world.project, identity_file=tmp_path / "identity.json",
                  until_empty=True, concurrency=8)  # fmt: skip
    rest.run(lambda task: None)  # the blocking form, as a script would call it
    events = world.server.events()
    closes = history.releases(events, "closed")
    assert set(closes) == history.submitted(events) and set(closes.values()) == {1}


async def test_a_command_stopped_while_its_process_starts_ends_with_its_process(
    world: World, tmp_path: Path
) -> None:
    """SIGTERM cancels the running handlers; one may be inside asyncio's
    ``create_subprocess_exec``, waiting for the new process's pipes. Cancelled there, it must
    still end (and its process with it), or ``tracker work`` never exits."""
    world.worker.bulk_submit([NewTask(project=world.project, recipe="r")])
    task = world.worker.get_task(world.project)
    assert task is not None
    pids = tmp_path / "pids"
    running = asyncio.ensure_future(
        Command(["sh", "-c", f"echo $$ >> {pids}; cat > /dev/null; sleep 30"])(task)
    )
    starting = type(asyncio.get_running_loop())._make_subprocess_transport  # type: ignore[attr-defined]
    await eventually(lambda: suspended_in(starting), every=0, what="the process starting")
    running.cancel()
    await asyncio.wait({running}, timeout=30)  # not wait_for: it would wait for a hung end
    assert running.cancelled()
    for pid in map(int, pids.read_text().split()) if pids.exists() else ():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # stopped, not left to run its 30 s


def _closed(world: World) -> int:
    return sum(s.closed_task_count for s in world.admin.worker_stats())


def _run(
    world: World, tmp_path: Path, *options: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(_work(world, tmp_path, *options), cwd=ROOT, env=environment(),
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda d: str(d / "nonexistent.sh"), "nonexistent.sh: no such file"),
        (lambda d: str(d), "is a directory"),
        (lambda d: _file(d / "plain.sh", 0o644), "plain.sh: not executable"),
        (lambda d: "no-such-program-anywhere", "no-such-program-anywhere: not found in PATH"),
    ],
)  # fmt: skip
def test_a_command_that_cannot_run_is_refused_before_any_task_is_taken(
    world: World, tmp_path: Path, make: object, said: str
) -> None:
    world.worker.bulk_submit([NewTask(project=world.project, recipe=f"r{i}") for i in range(5)])
    before = len(world.server.events())
    done = _run(world, tmp_path, "--", make(tmp_path))  # type: ignore[operator]
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracker work: cannot run the command: ")
    assert said in lines[0]
    assert len(world.server.events()) == before  # nothing asked of the tracker, nothing taken


def _file(path: Path, mode: int, text: str = "#!/bin/sh\nexit 0\n") -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_a_command_that_keeps_failing_stops_the_worker_and_gives_back_what_it_holds(
    world: World, tmp_path: Path
) -> None:
    world.worker.bulk_submit([NewTask(project=world.project, recipe=f"r{i}", max_retries=3)
                              for i in range(100)])  # fmt: skip
    script = "echo 'db: connection refused' >&2; exit 3"
    done = _run(world, tmp_path, "--concurrency", "4", "--max-failures", "6", "--",
                "sh", "-c", script)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "tracker work: stopped after 6 failures in a row within 10 s; the last: sh: exit "
        "status 3; the tasks held were released SKIP")  # fmt: skip
    events = world.server.events()
    retried = history.releases(events, "retry")
    assert 6 <= sum(retried.values()) <= 6 + 4
    assert {r for reasons in history.reasons(events).values() for r in reasons if r} == {
        "sh: exit status 3\ndb: connection refused"}  # fmt: skip
    held = {a.assignee: a.task_count for a in world.admin.assignees(world.project)}
    assert held == {"unassigned": 100}


def test_a_failure_sends_the_exit_status_and_the_end_of_standard_error(
    world: World, tmp_path: Path
) -> None:
    world.worker.bulk_submit([NewTask(project=world.project, recipe="x", max_retries=1)])
    noisy = _file(tmp_path / "noisy.sh", 0o755, "#!/bin/sh\n"
                  "i=0; while [ $i -lt 3000 ]; do echo \"line $i \u00e9\u00e9\u00e9\" >&2; "
                  "i=$((i+1)); done\nkill -9 $$\n")  # fmt: skip
    done = _run(world, tmp_path, "--until-empty", "--", noisy)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "line 2999" in done.stderr  # passed through as well
    [reason] = [r for rs in history.reasons(world.server.events()).values() for r in rs]
    assert reason.startswith(f"{noisy}: killed by signal 9 (SIGKILL)\nline ")
    assert reason.endswith("line 2999 \u00e9\u00e9\u00e9")
    assert MAX_REASON_BYTES - 4 <= len(reason.encode()) <= MAX_REASON_BYTES


def test_against_a_tracker_without_batches_it_works_one_task_at_a_time(
    servers: Servers, tmp_path: Path
) -> None:
    server = servers.start("original-like", env={"TRACKER_TASKS_MAX_BATCH_SIZE": "0"})
    world = world_in(server)
    try:
        world.worker.bulk_submit([NewTask(project=world.project, recipe=f"r{i}")
                                  for i in range(20)])  # fmt: skip
        done = _run(world, tmp_path, "--until-empty", "--concurrency", "3", "--", "cat")
        assert done.returncode == 0, done.stderr
        assert "released 20 OK (20 closed)" in done.stderr
        types = {record["type"] for record in server.events()}
        assert "TaskReleased" in types and "TasksReleased" not in types
    finally:
        world.admin.close()
        world.worker.close()
