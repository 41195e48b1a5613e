"""Settings: defaults that work, the original's config.yml keys, TRACKER_* variables, and
clear errors for values that cannot work."""

from pathlib import Path

import pytest

from tracker import config


def test_defaults_need_no_file_and_no_variables() -> None:
    settings = config.load(environ={})
    assert (settings.host, settings.port) == ("0.0.0.0", 3010)
    assert settings.session.cookie_name == "tt"
    assert settings.session.expiration == 8 * 3600
    assert settings.tasks.default_max_assign_time == 300


def test_the_originals_config_yml_is_read_with_go_durations(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(
        "server:\n  address: 127.0.0.1:5001\n"
        "git:\n  webhook_hash: sha1\n  webhook_sig_header: X-Hub-Signature\n"
        "session:\n  cookie_name: tt_test\n  expiration: 25m\n"
        "monitoring:\n  snapshot_interval: 10h\n  history_length: 1h30m\n"
    )
    settings = config.load(path, environ={})
    assert (settings.host, settings.port) == ("127.0.0.1", 5001)
    assert settings.git.webhook_hash == "sha1"
    assert settings.session.expiration == 25 * 60
    assert settings.monitoring.snapshot_interval == 36000
    assert settings.monitoring.history_length == 5400


def test_variables_override_the_file_and_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[session]\ncookie_name = "from_file"\n')
    environ = {
        "TRACKER_SESSION_COOKIE_NAME": "from_env",
        "TRACKER_DATABASE_LOG_LEVELS": "warn,error",
    }
    settings = config.load(path, environ=environ)
    assert settings.session.cookie_name == "from_env"
    assert settings.database.log_levels == ["warn", "error"]
    forced = config.load(path, environ=environ, overrides={"session": {"cookie_name": "x"}})
    assert forced.session.cookie_name == "x"


@pytest.mark.parametrize(
    ("layer", "complaint"),
    [
        ({"git": {"webhook_hash": "md5"}}, "git.webhook_hash"),
        ({"database": {"conn_str": "mysql://x@db/tracker"}}, "database.conn_str"),
        ({"tasks": {"default_max_assign_time": "0s"}}, "tasks.default_max_assign_time"),
        ({"metrics": {"token": "short"}}, "metrics.token"),
        ({"session": {"expiration": "soon"}}, "invalid duration"),
        ({"server": {"address": "nowhere"}}, "server.address"),
        ({"server": {"max_body_size": 10}}, "server.max_body_size"),
    ],
)
def test_values_that_cannot_work_are_refused_with_the_key_named(
    layer: dict, complaint: str
) -> None:
    with pytest.raises(config.ConfigError, match=complaint.replace(".", r"\.")):
        config.build(layer)


@pytest.mark.parametrize(
    ("layer", "complaint"),
    [
        ({"server": {"adress": "127.0.0.1:1"}}, "server.adress: unknown key"),
        ({"sever": {"address": "127.0.0.1:1"}}, "sever: unknown section"),
        ({"session": {"expiration": "-5s"}}, "session.expiration: invalid duration '-5s'"),
        ({"checkpoint": {"interval": -1}}, "checkpoint.interval: invalid duration -1"),
        ({"checkpoint": {"keep": 0}}, "checkpoint.keep: expected `int` >= 1"),
        ({"audit": {"max_concurrent_reads": 0}}, "audit.max_concurrent_reads: expected `int` >= 1"),
        ({"audit": {"read_wait": "-1s"}}, "audit.read_wait: invalid duration '-1s'"),
        ({"audit": {"max_read_memory": 100}}, "audit.max_read_memory: expected `int` >= 1024"),
        ({"database": {"log_buffer_bytes": "many"}}, "database.log_buffer_bytes: expected `int`"),
        ({"log": {"format": "xml"}}, "log.format"),
        ({"log": {"level": "loud"}}, "log.level"),
        ({"server": {"address": "127.0.0.1:65536"}}, "server.address"),
        ({"server": "127.0.0.1:1"}, "server: a section must be a mapping"),
    ],
)
def test_the_schema_refuses_a_bad_key_or_value_naming_its_path(layer: dict, complaint: str) -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.build(layer)
    assert str(refused.value).startswith(complaint)


def test_an_unknown_tracker_variable_is_refused_by_name() -> None:
    with pytest.raises(config.ConfigError, match="TRACKER_SESION_COOKIE_NAME: unknown setting "
                       r"variable \(did you mean TRACKER_SESSION_COOKIE_NAME\?\)"):  # fmt: skip
        config.load(environ={"TRACKER_SESION_COOKIE_NAME": "x"})
    assert config.load(environ={"TRACKER_CONFIG": ""}).session.cookie_name == "tt"


def test_durations_are_seconds_and_port_0_means_any(tmp_path: Path) -> None:
    settings = config.build({"checkpoint": {"interval": "1h30m"}, "server": {"address": ":0"}})
    assert settings.checkpoint.interval == 5400.0 and settings.port == 0
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(config.ConfigError, match="bad.json: not valid JSON"):
        config.load(path, environ={})
