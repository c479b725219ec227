"""The App facade without a database server: views, target lifecycle, settings, readiness."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.config import load_config
from dumper.crypto import Cipher
from dumper.errors import ConfirmationRequired, Conflict, DecryptionError, InvalidInput, NotFound
from dumper.targets import TargetService
from dumper.views import (
    BackupView,
    ConnectionReport,
    JobView,
    MetricsView,
    RestoreView,
    SettingsView,
    TargetView,
)
from tests.conftest import free_port

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TARGET: dict[str, Any] = {
    "name": "shop",
    "host": "127.0.0.1",
    "port": 3306,
    "dbname": "shop",
    "user": "backup",
    "password": "pw-123-secret",
    "comment": "",
    "schedule_time": "03:00",
    "retention_days": 14,
    "auto_compress": True,
}

# the JSON fields of docs/API.md, which the views must carry exactly
API_FIELDS = {
    TargetView: "id name host port dbname user comment schedule_time retention_days auto_compress"
    " notify ping_url keep_last keep_daily keep_weekly keep_monthly keep_yearly"
    " schedule_kind schedule_every_hours schedule_minute schedule_weekdays verify_after_backup"
    " strict parallel_connections exclude created_at updated_at"
    " has_password password_error tls tls_ca tls_cert has_tls_key encryption age_recipient"
    " has_age_passphrase next_run_at last_backup_status"
    " last_backup_at last_backup_size_bytes last_backup_warnings last_success_at"
    " last_success_size_bytes stale running_job last_verification",
    BackupView: "id target_id target_name status trigger started_at finished_at duration_seconds"
    " file_name file_exists size_bytes sha256 tables rows notes warnings error_code progress"
    " verification file_check encrypted databases",
    RestoreView: "id backup_id target_id status started_at finished_at duration_seconds"
    " statements notes progress database clean selected_tables tables rows",
    JobView: "kind id target_id target_name started_at progress",
    ConnectionReport: "ok server_version database_exists can_read message tls_version tls_cipher"
    " databases",
    SettingsView: "version config auth_enabled open_access disk scheduler jobs unknown_files"
    " file_check",
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = load_config(
        {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}
    )
    a = App.build(config, clock=FakeClock(NOW, advance_on_sleep=False))
    yield a
    a.stop(timeout=1)


@pytest.mark.parametrize("view", list(API_FIELDS))
def test_views_carry_exactly_the_api_fields(view: type) -> None:
    assert [f.name for f in dataclasses.fields(view)] == API_FIELDS[view].split()


def test_create_returns_the_view_without_the_password(app: App) -> None:
    t = app.create_target(TARGET)
    assert t.name == "shop" and t.has_password and t.password_error is None
    assert t.next_run_at == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert t.last_backup_status is None and t.last_backup_at is None and t.running_job is None
    assert t.created_at == NOW
    assert "pw-123-secret" not in repr(t)
    assert app.get_target(t.id) == t
    assert app.list_targets() == [t]
    assert app.target_by_name("shop") == t


def test_create_errors(app: App) -> None:
    app.create_target(TARGET)
    with pytest.raises(Conflict):
        app.create_target(TARGET)
    with pytest.raises(InvalidInput) as err:
        app.create_target({**TARGET, "port": "3306"})
    assert "port" in err.value.fields
    with pytest.raises(NotFound):
        app.get_target(999)
    with pytest.raises(NotFound):
        app.target_by_name("nope")


def test_update_and_schedule_removal(app: App) -> None:
    t = app.create_target(TARGET)
    u = app.update_target(t.id, {**TARGET, "schedule_time": None, "password": ""})
    assert u.schedule_time is None and u.next_run_at is None and u.has_password


def test_changed_key_is_reported_and_fixed_by_entering_the_password(app: App) -> None:
    t = app.create_target(TARGET)
    app.targets.cipher = Cipher(os.urandom(32))
    broken = app.get_target(t.id)
    assert broken.password_error is not None and "enter" in broken.password_error
    with pytest.raises(DecryptionError):
        app.start_backup(t.id)
    with pytest.raises(DecryptionError):
        app.test_connection(target_id=t.id)
    fixed = app.update_target(t.id, TARGET)
    assert fixed.password_error is None


def add_backup(app: App, target_id: int, status: str, name: str, *, file: bool = True) -> int:
    row = app.store.insert_backup(target_id, NOW - timedelta(hours=1), name, "scheduled")
    if file:
        app.config.backup_dir.mkdir(parents=True, exist_ok=True)
        (app.config.backup_dir / name).write_bytes(b"x" * 10)
    if status != "running":
        app.store.finish_backup(
            row.id,
            status=status,
            finished_at=NOW,
            duration_seconds=2.5,
            size_bytes=10 if status == "success" else None,
            sha256="ab" if status == "success" else None,
            tables=1,
            rows=2,
            notes="" if status == "success" else "boom",
        )
    return row.id


def test_backup_views(app: App) -> None:
    t = app.create_target(TARGET)
    ok = add_backup(app, t.id, "success", "shop_a.sql.gz")
    running = add_backup(app, t.id, "running", "shop_b.sql.gz", file=False)
    v = app.get_backup(ok)
    assert (v.status, v.file_name, v.file_exists, v.size_bytes, v.sha256) == (
        "success",
        "shop_a.sql.gz",
        True,
        10,
        "ab",
    )
    assert v.target_name == "shop" and v.trigger == "scheduled" and v.progress is None
    assert v.duration_seconds == 2.5 and v.finished_at == NOW
    r = app.get_backup(running)
    assert r.status == "running" and r.finished_at is None and r.sha256 is None
    assert r.progress is not None and r.file_exists is False
    assert [b.id for b in app.list_backups(t.id)] == [running, ok]
    target = app.get_target(t.id)
    assert target.last_backup_status == "running"
    with pytest.raises(NotFound):
        app.get_backup(999)
    with pytest.raises(NotFound):
        app.list_backups(999)


def test_backup_file_and_delete_backup(app: App) -> None:
    t = app.create_target(TARGET)
    ok = add_backup(app, t.id, "success", "shop_a.sql.gz")
    failed = add_backup(app, t.id, "failed", "shop_f.sql.gz", file=False)
    running = add_backup(app, t.id, "running", "shop_r.sql.gz", file=False)
    assert app.backup_file(ok) == app.config.backup_dir / "shop_a.sql.gz"
    with pytest.raises(NotFound):
        app.backup_file(failed)
    with pytest.raises(Conflict):
        app.delete_backup(running)
    app.delete_backup(ok)
    assert not (app.config.backup_dir / "shop_a.sql.gz").exists()
    with pytest.raises(NotFound):
        app.get_backup(ok)
    app.delete_backup(failed)  # no file: still deleted
    gone = add_backup(app, t.id, "success", "shop_gone.sql.gz")
    (app.config.backup_dir / "shop_gone.sql.gz").unlink()
    with pytest.raises(NotFound):
        app.backup_file(gone)
    assert app.get_backup(gone).file_exists is False


def test_delete_target_refuses_with_backups_unless_asked(app: App) -> None:
    t = app.create_target(TARGET)
    add_backup(app, t.id, "success", "shop_a.sql.gz")
    with pytest.raises(Conflict):
        app.delete_target(t.id, with_backups=False)
    assert (app.config.backup_dir / "shop_a.sql.gz").exists()
    app.delete_target(t.id, with_backups=True)
    assert not (app.config.backup_dir / "shop_a.sql.gz").exists()
    with pytest.raises(NotFound):
        app.get_target(t.id)
    empty = app.create_target({**TARGET, "name": "empty"})
    app.delete_target(empty.id, with_backups=False)
    assert app.list_targets() == []


def test_restore_needs_the_exact_target_name(app: App) -> None:
    t = app.create_target(TARGET)
    ok = add_backup(app, t.id, "success", "shop_a.sql.gz")
    for wrong in (None, "", "Shop", "shop "):
        with pytest.raises(ConfirmationRequired):
            app.start_restore(ok, confirm=wrong)
    failed = add_backup(app, t.id, "failed", "shop_f.sql.gz", file=False)
    with pytest.raises(InvalidInput):
        app.start_restore(failed, confirm="shop")
    with pytest.raises(NotFound):
        app.start_restore(999, confirm="shop")
    with pytest.raises(NotFound):
        app.get_restore(999)


def test_settings_without_secrets(app: App) -> None:
    app.config.backup_dir.mkdir(parents=True)
    (app.config.backup_dir / "stray.sql.gz").write_bytes(b"abc")
    s = app.settings()
    assert s.config.backup_dir == str(app.config.backup_dir)
    assert s.config.enc_key_source == "file" and s.config.max_parallel_jobs == 2
    assert s.auth_enabled is False
    assert s.disk.total_bytes > 0 and s.disk.backups_bytes == 3
    assert [f.name for f in s.unknown_files] == ["stray.sql.gz"]
    assert s.jobs.running == 0 and s.jobs.max_parallel == 2
    assert s.scheduler.running is False
    assert app.config.enc_key.hex() not in repr(s)


OPEN_WARNING = "authentication is off and the service listens on"


def _build(tmp_path: Path, env: dict[str, str]) -> App:
    config = load_config(
        {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b"), **env}
    )
    return App.build(config, clock=FakeClock(NOW, advance_on_sleep=False))


@pytest.mark.parametrize(
    ("env", "open_access"),
    [
        ({"APP_HOST": "127.0.0.1"}, False),
        ({"APP_HOST": "::1"}, False),
        ({"APP_HOST": "localhost"}, False),
        ({"APP_HOST": "0.0.0.0"}, True),
        ({"APP_HOST": "::"}, True),
        ({"APP_HOST": "192.168.1.20"}, True),
        ({"APP_HOST": "backup.lan"}, True),
        ({"APP_HOST": "0.0.0.0", "ADMIN_USER": "admin", "ADMIN_PASS": "pw"}, False),
    ],
)
def test_settings_say_open_access_only_without_auth_beyond_loopback(
    tmp_path: Path, env: dict[str, str], open_access: bool
) -> None:
    a = _build(tmp_path, env)
    try:
        assert a.settings().open_access is open_access
    finally:
        a.stop(timeout=1)


@pytest.mark.parametrize(
    ("env", "warned"),
    [
        ({"APP_HOST": "0.0.0.0"}, True),
        ({"APP_HOST": "127.0.0.1"}, False),
        ({"APP_HOST": "0.0.0.0", "ADMIN_USER": "admin", "ADMIN_PASS": "pw"}, False),
    ],
)
def test_start_warns_when_anyone_who_can_reach_the_service_may_use_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, env: dict[str, str], warned: bool
) -> None:
    caplog.set_level(logging.INFO, logger="dumper")
    a = _build(tmp_path, env)
    try:
        a.start()
    finally:
        a.stop(timeout=1)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and OPEN_WARNING in r.getMessage()
    ]
    if warned:
        assert warnings == [
            "authentication is off and the service listens on 0.0.0.0: anyone who can reach it"
            " can read and overwrite your databases; set ADMIN_USER and ADMIN_PASS"
        ]
    else:
        assert warnings == []


def test_readiness_reports_each_reason(app: App) -> None:
    reasons = app.readiness()
    assert any("BACKUP_DIR" in r for r in reasons)
    assert any("scheduler" in r for r in reasons)
    app.start()
    assert app.readiness() == []
    assert app.settings().scheduler.running is True


def test_metrics(app: App) -> None:
    t = app.create_target(TARGET)
    add_backup(app, t.id, "success", "shop_a.sql.gz")
    add_backup(app, t.id, "failed", "shop_f.sql.gz", file=False)
    m = app.metrics()
    assert isinstance(m, MetricsView)
    assert (m.targets_configured, m.backups_success, m.backups_failed) == (1, 1, 1)
    [tm] = m.targets
    assert tm.target == "shop" and tm.last_backup_ok is False
    assert tm.last_success_timestamp_seconds == NOW.timestamp()
    assert tm.last_backup_size_bytes == 10
    assert (tm.backups, tm.backups_bytes, tm.backups_failed) == (2, 10, 1)


def test_test_connection_validates_input_and_reports_unreachable_server(app: App) -> None:
    with pytest.raises(InvalidInput):
        app.test_connection({"host": "x"})
    report = app.test_connection({**TARGET, "port": free_port()})
    assert report.ok is False and report.server_version is None
    assert "pw-123-secret" not in report.message


def test_start_backup_checks_target_and_trigger(app: App) -> None:
    with pytest.raises(NotFound):
        app.start_backup(999)
    t = app.create_target(TARGET)
    with pytest.raises(InvalidInput):
        app.start_backup(t.id, trigger="cron")
    assert app.list_backups(t.id) == []


def test_cancel_of_nothing_is_not_found(app: App) -> None:
    with pytest.raises(NotFound):
        app.cancel_backup(1)
    with pytest.raises(NotFound):
        app.cancel_restore(1)


def test_target_service_is_shared_with_the_runner(app: App) -> None:
    assert isinstance(app.targets, TargetService)
    assert app.runner.targets is app.targets
