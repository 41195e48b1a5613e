"""What the original's ``config.yml`` files hold that this tracker reads differently.

task_tracker read ``config.<ext>`` from its working directory (viper, with the default name
``config`` and no other search path), in viper's order of extensions. So does ``tracker``
when neither ``--config`` nor ``TRACKER_CONFIG`` names a file: a ``config.yml`` that worked
with the original works here, from the same place, and the start-up says which file it read.

Every key of every ``config.yml`` the original shipped (the repository's and its tests', at
every commit) is accepted. A few mean nothing here: :data:`UNUSED` names them and why; they
are dropped and named in one warning line. Any other unknown key is still refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: viper 1.6's ``SupportedExts``, in the order it tries them.
VIPER_EXTENSIONS = ("json", "toml", "yaml", "yml", "properties", "props", "prop", "hcl",
                    "dotenv", "env", "ini")  # fmt: skip
READABLE = (".json", ".toml", ".yaml", ".yml")

#: ``section.key`` -> why it means nothing here.
UNUSED = {
    "git.webhook_secret": "read but never used by task_tracker either: each project has its "
    "own webhook secret (/project/webhook_secret/:id)",
    "server.test_address": "the first release's test address, never read",
    "database.test_conn_str": "the first release's test database, never read",
}


def in_working_directory(cwd: Path) -> Path | None:
    """The ``config.<ext>`` file the original would have read in ``cwd``, if any."""
    for extension in VIPER_EXTENSIONS:
        candidate = cwd / f"config.{extension}"
        if candidate.is_file():
            return candidate
    return None


def without_unused(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``data`` without the :data:`UNUSED` keys, and the keys dropped."""
    dropped = []
    kept = dict(data)
    for name in UNUSED:
        section, key = name.split(".")
        values = kept.get(section)
        if isinstance(values, dict) and key in values:
            kept[section] = {k: v for k, v in values.items() if k != key}
            dropped.append(name)
    return kept, dropped


def unused_notice(path: Path, dropped: list[str]) -> str:
    """The one warning line that names the dropped keys."""
    reasons = "; ".join(f"{name}: {UNUSED[name]}" for name in dropped)
    return f"{path}: ignoring task_tracker settings that mean nothing here ({reasons})"
