"""The handler table: which pure decision function answers which command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.commands import (
    access,
    admin,
    maintenance,
    managers,
    project_admin,
    projects,
    tasks,
    workers,
)
from tracker.commands import logs as log_commands
from tracker.commands.base import Command
from tracker.events.base import Event
from tracker.projections.state import State

Decider = Callable[[State, Any, float], list[Event]]

DECIDERS: dict[type[Command], Decider] = {
    **workers.DECIDERS,
    **projects.DECIDERS,
    **access.DECIDERS,
    **tasks.DECIDERS,
    **managers.DECIDERS,
    **admin.DECIDERS,
    **project_admin.DECIDERS,
    **maintenance.DECIDERS,
    **log_commands.DECIDERS,
}


def decide(state: State, command: Command, now: float) -> list[Event]:
    """The events ``command`` causes against ``state`` at time ``now``; raises if refused."""
    return DECIDERS[type(command)](state, command, now)
