"""Config: every variable validated, errors name the variable, the key file on first start."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest

from dumper.config import SETTINGS, describe, generate_key, load_config
from dumper.errors import ConfigError


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}
    env.update(extra)
    return env


def test_defaults_when_only_paths_are_given(tmp_path: Path) -> None:
    config = load_config(base_env(tmp_path, APP_ENC_KEY=generate_key()))
    assert config.app_port == 8080
    assert config.app_host == "0.0.0.0"
    assert config.max_parallel_jobs == 2
    assert config.log_level == "INFO"
    assert config.max_body_bytes == 1024 * 1024
    assert config.cors_origin is None
    assert config.auth_enabled is False
    assert config.enc_key_source == "env"
    assert config.web_dir.name == "public"


def test_documented_defaults_of_paths() -> None:
    # no SQLITE_PATH: the key file would go to /data/app, so give a key
    config = load_config({"APP_ENC_KEY": generate_key()})
    assert config.sqlite_path == Path("/data/app/app.db")
    assert config.backup_dir == Path("/data/backups")


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("APP_PORT", "80a"),
        ("APP_PORT", "0"),
        ("APP_PORT", "65536"),
        ("MAX_PARALLEL_JOBS", "0"),
        ("MAX_PARALLEL_JOBS", "two"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_BODY_BYTES", "-1"),
        ("APP_ENC_KEY", "not base64!!"),
        ("APP_ENC_KEY", base64.b64encode(b"x" * 16).decode()),
    ],
)
def test_invalid_value_is_refused_naming_the_variable(tmp_path: Path, var: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(base_env(tmp_path, **{"APP_ENC_KEY": generate_key(), var: value}))
    assert var in err.value.message
    assert var in err.value.fields


def test_values_are_converted(tmp_path: Path) -> None:
    key = generate_key()
    config = load_config(
        base_env(
            tmp_path,
            APP_ENC_KEY=key,
            APP_PORT="9000",
            MAX_PARALLEL_JOBS="5",
            LOG_LEVEL="debug",
            ADMIN_USER="admin",
            ADMIN_PASS="s3cret",
            CORS_ORIGIN="http://localhost:5173",
            WEB_DIR=str(tmp_path / "web"),
        )
    )
    assert (config.app_port, config.max_parallel_jobs, config.log_level) == (9000, 5, "DEBUG")
    assert config.enc_key == base64.b64decode(key)
    assert config.auth_enabled and config.admin_user == "admin"
    assert config.web_dir == tmp_path / "web"
    assert "s3cret" not in repr(config)
    assert key not in repr(config)


@pytest.mark.parametrize("only", ["ADMIN_USER", "ADMIN_PASS"])
def test_only_one_of_admin_user_and_pass_is_refused(tmp_path: Path, only: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(base_env(tmp_path, APP_ENC_KEY=generate_key(), **{only: "x"}))
    assert "ADMIN_USER" in err.value.message and "ADMIN_PASS" in err.value.message


def test_unset_key_is_generated_once_with_mode_0600_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = base_env(tmp_path)
    with caplog.at_level(logging.WARNING, logger="dumper"):
        first = load_config(env)
    key_file = tmp_path / "app" / "dumper.key"
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first.enc_key_source == "file"
    assert len(first.enc_key) == 32
    assert any("APP_ENC_KEY" in r.getMessage() for r in caplog.records)
    second = load_config(env)
    assert second.enc_key == first.enc_key


def test_empty_value_counts_as_unset(tmp_path: Path) -> None:
    config = load_config(base_env(tmp_path, APP_ENC_KEY="", APP_PORT=""))
    assert config.enc_key_source == "file"
    assert config.app_port == 8080


def test_corrupt_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "dumper.key").write_text("garbage")
    with pytest.raises(ConfigError) as err:
        load_config(base_env(tmp_path))
    assert "APP_ENC_KEY" in err.value.message


def test_every_setting_is_declared_once_with_help() -> None:
    names = [s.env for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help for s in SETTINGS)
    assert "MAX_PARALLEL_JOBS" in describe()


def test_generated_keys_are_random_32_bytes() -> None:
    a, b = generate_key(), generate_key()
    assert a != b
    assert len(base64.b64decode(a)) == 32


def test_security_settings_have_safe_defaults(tmp_path: Path) -> None:
    config = load_config(base_env(tmp_path, APP_ENC_KEY=generate_key()))
    assert config.allowed_hosts == ()
    assert config.trusted_proxies == ()
    assert config.max_connections == 32
    assert config.http_timeout == 15
    assert config.db_connect_timeout == 15
    assert config.backup_group_read is False
    assert (config.file_mode, config.dir_mode) == (0o600, 0o700)


def test_security_settings_are_parsed(tmp_path: Path) -> None:
    env = base_env(
        tmp_path,
        APP_ENC_KEY=generate_key(),
        ALLOWED_HOSTS="Dumper.LAN, backup.example.org.",
        TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8,::1",
        BACKUP_GROUP_READ="true",
        MAX_CONNECTIONS="8",
    )
    config = load_config(env)
    assert config.allowed_hosts == ("dumper.lan", "backup.example.org")
    assert [str(n) for n in config.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert (config.file_mode, config.dir_mode) == (0o640, 0o750)
    assert config.max_connections == 8


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ALLOWED_HOSTS", "dumper.lan:8080"),
        ("ALLOWED_HOSTS", " , "),
        ("TRUSTED_PROXIES", "proxy.lan"),
        ("BACKUP_GROUP_READ", "maybe"),
        ("MAX_CONNECTIONS", "1"),
        ("DB_CONNECT_TIMEOUT", "0"),
    ],
)
def test_invalid_security_setting_is_refused(tmp_path: Path, var: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(base_env(tmp_path, **{"APP_ENC_KEY": generate_key(), var: value}))
    assert var in err.value.message
