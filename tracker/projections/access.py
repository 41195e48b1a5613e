"""Read model of worker access to projects: pending requests and granted access."""

from __future__ import annotations

import msgspec

from tracker.events import projects as ev


class Access(msgspec.Struct, gc=False):
    assign: bool
    submit: bool
    pending: bool = True
    requested: float = 0.0


class AccessModel:
    def __init__(self) -> None:
        self.records: dict[tuple[int, int], Access] = {}  # (worker, project) -> access
        self.count_by_project: dict[int, int] = {}

    def get(self, worker_id: int, project_id: int) -> Access | None:
        return self.records.get((worker_id, project_id))

    def can_assign(self, worker_id: int, project_id: int) -> bool:
        access = self.records.get((worker_id, project_id))
        return access is not None and not access.pending and access.assign

    def can_submit(self, worker_id: int, project_id: int) -> bool:
        access = self.records.get((worker_id, project_id))
        return access is not None and not access.pending and access.submit

    def of_project(self, project_id: int) -> list[tuple[int, Access]]:
        return [(w, a) for (w, p), a in self.records.items() if p == project_id]


def requested(model: AccessModel, e: ev.AccessRequested) -> None:
    model.records[(e.worker_id, e.project_id)] = Access(e.assign, e.submit, True, e.at)
    model.count_by_project[e.project_id] = model.count_by_project.get(e.project_id, 0) + 1


def granted(model: AccessModel, e: ev.AccessGranted) -> None:
    model.records[(e.worker_id, e.project_id)].pending = False


def revoked(model: AccessModel, e: ev.AccessRevoked) -> None:
    del model.records[(e.worker_id, e.project_id)]
    model.count_by_project[e.project_id] -= 1


HANDLERS = {
    ev.AccessRequested: requested,
    ev.AccessGranted: granted,
    ev.AccessRevoked: revoked,
}
