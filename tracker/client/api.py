"""Every route as a method, shared by ``Client`` (sync) and ``AsyncClient`` (asyncio)."""

from __future__ import annotations

from tracker.client import manager_routes as m
from tracker.client import task_actions as t
from tracker.client import worker_routes as w
from tracker.client.endpoints import Endpoint


class Routes:
    """Worker routes (``X-Worker-Id``/``X-Secret`` from ``client.worker``) and manager routes
    (the session cookie of ``login``/``register``). Docstrings: ``worker_routes`` and
    ``manager_routes``."""

    info = Endpoint(w.info)
    create_worker = Endpoint(w.create_worker)
    update_worker = Endpoint(w.update_worker)
    get_worker = Endpoint(w.get_worker)
    worker_stats = Endpoint(w.worker_stats)
    request_access = Endpoint(w.request_access)
    submit_task = Endpoint(w.submit_task)
    bulk_submit = Endpoint(w.bulk_submit)
    get_task = Endpoint(w.get_task)
    release = Endpoint(w.release)
    bulk_get = Endpoint(w.bulk_get)
    bulk_release = Endpoint(w.bulk_release)
    touch = Endpoint(w.touch)
    log = Endpoint(w.log)
    project_secret = Endpoint(w.project_secret)

    register = Endpoint(m.register)
    login = Endpoint(m.login)
    logout = Endpoint(m.logout)
    account = Endpoint(m.account)
    managers = Endpoint(m.managers)
    managers_of = Endpoint(m.managers_of)
    promote = Endpoint(m.promote)
    demote = Endpoint(m.demote)
    set_role = Endpoint(m.set_role)
    set_worker_paused = Endpoint(m.set_worker_paused)
    create_project = Endpoint(m.create_project)
    get_project = Endpoint(m.get_project)
    update_project = Endpoint(m.update_project)
    projects = Endpoint(m.projects)
    monitoring = Endpoint(m.monitoring)
    monitoring_between = Endpoint(m.monitoring_between)
    assignees = Endpoint(m.assignees)
    access_list = Endpoint(m.access_list)
    accept_request = Endpoint(m.accept_request)
    reject_request = Endpoint(m.reject_request)
    set_project_secret = Endpoint(m.set_project_secret)
    webhook_secret = Endpoint(m.webhook_secret)
    set_webhook_secret = Endpoint(m.set_webhook_secret)
    reset_failed_tasks = Endpoint(m.reset_failed_tasks)
    hard_reset = Endpoint(m.hard_reset)
    reclaim_assigned_tasks = Endpoint(m.reclaim_assigned_tasks)
    retry_tasks = Endpoint(t.retry_tasks)
    cancel_tasks = Endpoint(t.cancel_tasks)
    set_priority = Endpoint(t.set_priority)
    take_back = Endpoint(t.take_back)
    count_matching = Endpoint(t.count_matching)
    act_on_matching = Endpoint(t.act_on_matching)
    logs = Endpoint(m.logs)
    tasks = Endpoint(m.tasks)
    task_view = Endpoint(m.task_view)
