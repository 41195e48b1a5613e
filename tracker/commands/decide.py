"""The handler table: which pure decision function answers which command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.commands import (
    access,
    admin,
    batches,
    maintenance,
    managers,
    project_admin,
    projects,
    task_actions,
    tasks,
    workers,
)
from tracker.commands import logs as log_commands
from tracker.commands.base import Command
from tracker.events.base import Event
from tracker.projections.state import State

Decider = Callable[[State, Any, float], list[Event]]

_MODULES = (workers, projects, access, tasks, batches, managers, admin, project_admin,
            maintenance, task_actions, log_commands)  # fmt: skip

# Each module types its deciders by their own command; the table erases that to ``Any``.
DECIDERS: dict[type[Command], Decider] = {
    command: decider for module in _MODULES for command, decider in module.DECIDERS.items()
}


def decide(state: State, command: Command, now: float) -> list[Event]:
    """The events ``command`` causes against ``state`` at time ``now``; raises if refused."""
    return DECIDERS[type(command)](state, command, now)
