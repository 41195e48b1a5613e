"""The git push webhook's rules, apart from HTTP: the payload, the signature, the tracked ref.

A push is signed with an HMAC of the raw body, keyed with the project's webhook secret. The
hash (sha1 or sha256) is one setting for the whole tracker, as in the original. The header may
carry ``sha1=<hex>``, ``sha256=<hex>`` or the bare hex; a prefix must name the configured hash.
Hex is compared case-insensitively and in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from tracker.projections.projects import Project
from tracker.projections.state import State

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


class Repository(msgspec.Struct):
    full_name: str = ""


class Push(msgspec.Struct):
    """The fields of a GitHub / Gogs / Gitea push payload the tracker reads."""

    ref: str = ""
    after: str = ""
    repository: Repository = msgspec.field(default_factory=Repository)


def signature(body: bytes, secret: str, algorithm: str) -> str:
    """The lowercase hex HMAC of ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body, ALGORITHMS[algorithm]).hexdigest()


def signature_matches(header: str, body: bytes, secret: str, algorithm: str) -> bool:
    """Whether the signature header value signs ``body`` with ``secret``."""
    prefix, _, given = header.strip().rpartition("=")
    if prefix and prefix.strip().lower() != algorithm:
        return False
    expected = signature(body, secret, algorithm)
    # Header text may hold surrogate escapes (bytes that are not UTF-8): compare the bytes.
    given_bytes = given.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given_bytes, expected.encode())


def tracked_ref(branch: str) -> str:
    """``master`` → ``refs/heads/master``; a full ref (``refs/...``) is used as it is."""
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def signed_projects(
    state: State, push: Push, header: str, body: bytes, algorithm: str
) -> list[Project]:
    """The projects of the pushed repository (case-insensitive) whose secret signs the body."""
    name = push.repository.full_name.lower()
    if not name or not header:
        return []
    return [
        project
        for project in state.projects.by_id.values()
        if project.view.git_repo.lower() == name
        and project.webhook_secret
        and signature_matches(header, body, project.webhook_secret, algorithm)
    ]
