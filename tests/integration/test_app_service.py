"""The App facade end to end against a real MariaDB: backup, download path, restore,
connection tests, scheduled catch-up through start(), live progress, no password in logs.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.clock import FakeClock
from dumper.config import load_config
from dumper.engine import Engine
from dumper.errors import Conflict
from dumper.store import Store
from tests.conftest import admin_exec

pytestmark = pytest.mark.integration

SECRET = "Pw-" + uuid.uuid4().hex[:12]


def fill(params: ConnParams, rows: int = 30) -> None:
    conn = connect(params, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(50))")
        cur.executemany("INSERT INTO film VALUES (%s, %s)", [(i, f"f{i}") for i in range(rows)])
        cur.execute("CREATE TABLE actor (id INT PRIMARY KEY)")
    conn.close()


def target_data(params: ConnParams, name: str = "shop", **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "host": params.host,
        "port": params.port,
        "dbname": params.database,
        "user": params.user,
        "password": params.password,
        "retention_days": 0,
        "auto_compress": True,
        "schedule_time": None,
    }
    data.update(kw)
    return data


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(clock: FakeClock | None = None, engine: Engine | None = None) -> App:
        config = load_config(
            {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}
        )
        app = App.build(config, clock=clock, engine=engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop(timeout=5)


@pytest.fixture
def reader(mysql_params: ConnParams, scratch_db: ConnParams) -> Iterator[ConnParams]:
    """A user with a password who may only read the scratch database."""
    user = "dumper_r_" + uuid.uuid4().hex[:8]
    admin_exec(
        mysql_params,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{SECRET}'",
        f"GRANT SELECT, SHOW VIEW, LOCK TABLES, TRIGGER, EVENT ON `{scratch_db.database}`.*"
        f" TO '{user}'@'%'",
    )
    try:
        yield ConnParams(
            host=scratch_db.host,
            port=scratch_db.port,
            user=user,
            password=SECRET,
            database=scratch_db.database,
        )
    finally:
        admin_exec(mysql_params, f"DROP USER IF EXISTS '{user}'@'%'")


def test_backup_download_and_restore_through_the_facade(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    app = make_app()
    app.start()
    t = app.create_target(target_data(scratch_db))
    started = app.start_backup(t.id)
    assert started.status == "running" and started.trigger == "manual"
    done = app.wait_backup(started.id, timeout=60)
    assert done.status == "success", done.notes
    assert done.file_exists and done.tables == 2 and done.rows == 30 and done.progress is None
    path = app.backup_file(done.id)
    assert path.name == done.file_name and path.stat().st_size == done.size_bytes
    view = app.get_target(t.id)
    assert view.last_backup_status == "success" and view.last_backup_size_bytes == done.size_bytes
    assert view.running_job is None

    admin_exec(scratch_db, f"DROP TABLE `{scratch_db.database}`.film")
    restore = app.start_restore(done.id, confirm="shop")
    assert restore.status == "running"
    finished = app.wait_restore(restore.id, timeout=60)
    assert finished.status == "success", finished.notes
    assert finished.statements and finished.progress is None
    conn = connect(scratch_db)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM film")
        assert cur.fetchone()[0] == 30
    conn.close()
    assert app.list_jobs() == []


def test_live_progress_and_conflicts_while_a_job_runs(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    real = Engine.default()
    hold = threading.Event()
    inside = threading.Event()

    def dump(*args: Any, progress: Any = None, **kw: Any) -> Any:
        def report(p: Any) -> None:
            progress(p)
            inside.set()
            assert hold.wait(30)

        return real.dump(*args, progress=report, **kw)

    app = make_app(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    t = app.create_target(target_data(scratch_db))
    b = app.start_backup(t.id)
    assert inside.wait(10)
    running = app.get_backup(b.id)
    assert running.status == "running" and running.progress is not None
    assert running.progress.tables_total == 2
    assert running.finished_at is None and running.sha256 is None and not running.file_exists
    [job] = app.list_jobs()
    assert (job.kind, job.id, job.target_name) == ("backup", b.id, "shop")
    assert app.get_target(t.id).running_job is not None
    with pytest.raises(Conflict):
        app.start_backup(t.id)
    with pytest.raises(Conflict):
        app.delete_target(t.id, with_backups=True)
    with pytest.raises(Conflict):
        app.delete_backup(b.id)
    hold.set()
    assert app.wait_backup(b.id, 30).status == "success"


def test_cancel_through_the_facade(make_app: Callable[..., App], scratch_db: ConnParams) -> None:
    fill(scratch_db)
    real = Engine.default()
    inside, hold = threading.Event(), threading.Event()

    def dump(*args: Any, progress: Any = None, **kw: Any) -> Any:
        def report(p: Any) -> None:
            progress(p)
            inside.set()
            hold.wait(30)

        return real.dump(*args, progress=report, **kw)

    app = make_app(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    t = app.create_target(target_data(scratch_db))
    b = app.start_backup(t.id)
    assert inside.wait(10)
    app.cancel_backup(b.id)
    hold.set()
    got = app.wait_backup(b.id, 30)
    assert got.status == "cancelled" and "cancel" in got.notes and not got.file_exists


def test_stop_fails_jobs_cut_off_by_the_timeout(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    real = Engine.default()
    inside = threading.Event()

    def dump(*args: Any, progress: Any = None, cancel: Any = None, **kw: Any) -> Any:
        def report(p: Any) -> None:
            progress(p)
            inside.set()
            cancel.wait(30)  # a slow dump that only ends when cancelled

        return real.dump(*args, progress=report, cancel=cancel, **kw)

    app = make_app(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
    t = app.create_target(target_data(scratch_db))
    b = app.start_backup(t.id)
    assert inside.wait(10)
    store_path = app.config.sqlite_path
    app.stop(timeout=0.2)
    s = Store(store_path)
    row = s.get_backup(b.id)
    s.close()
    assert row is not None and row.status == "failed" and "shut down" in row.notes
    assert list(app.config.backup_dir.iterdir()) == []


def test_connection_reports(
    make_app: Callable[..., App], scratch_db: ConnParams, reader: ConnParams
) -> None:
    fill(scratch_db)
    app = make_app()
    ok = app.test_connection(target_data(reader))
    assert ok.ok and ok.database_exists and ok.can_read, ok.message
    assert ok.server_version and ok.server_version[0].isdigit()
    missing = app.test_connection(target_data(reader, dbname="no_such_db_x"))
    assert not missing.ok and missing.database_exists is False
    wrong = app.test_connection(target_data(reader, password="wrong"))
    assert not wrong.ok and wrong.server_version is None
    assert "1045" in wrong.message
    saved = app.create_target(target_data(reader, name="saved"))
    assert app.test_connection(target_id=saved.id).ok


def test_connection_without_read_privilege(
    make_app: Callable[..., App], mysql_params: ConnParams, scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    user = "dumper_n_" + uuid.uuid4().hex[:8]
    admin_exec(
        mysql_params,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{SECRET}'",
        f"GRANT CREATE ON `{scratch_db.database}`.* TO '{user}'@'%'",
    )
    try:
        app = make_app()
        report = app.test_connection(
            target_data(scratch_db, user=user, password=SECRET),
        )
        assert report.database_exists is True and report.can_read is False and not report.ok
    finally:
        admin_exec(mysql_params, f"DROP USER IF EXISTS '{user}'@'%'")


def test_logs_and_notes_never_contain_the_password(
    make_app: Callable[..., App],
    scratch_db: ConnParams,
    reader: ConnParams,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fill(scratch_db)
    app = make_app()
    with caplog.at_level(logging.DEBUG, logger="dumper"):
        good = app.create_target(target_data(reader, name="good"))
        assert app.wait_backup(app.start_backup(good.id).id, 60).status == "success"
        bad = app.create_target(target_data(reader, name="bad", port=1))
        failed = app.wait_backup(app.start_backup(bad.id).id, 60)
    assert failed.status == "failed" and failed.notes
    assert SECRET not in failed.notes
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "backup" in text
    assert SECRET not in text
    assert SECRET not in app.config.sqlite_path.read_bytes().decode("latin-1")


def test_start_catches_up_todays_missed_slot_once(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), advance_on_sleep=False)
    first = make_app(clock=clock)
    t = first.create_target(target_data(scratch_db, schedule_time="03:00"))
    # the service was down over 03:00 and comes back at 10:00 the next day
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    first.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        backups = first.list_backups(t.id)
        if backups and backups[0].status != "running":
            break
        time.sleep(0.05)
    [b] = first.list_backups(t.id)
    assert b.status == "success" and b.trigger == "scheduled", b.notes
    assert first.get_target(t.id).next_run_at == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    first.stop(timeout=5)

    clock.advance(timedelta(minutes=5))
    second = make_app(clock=clock)
    second.start()
    time.sleep(0.3)  # several scheduler rounds
    assert len(second.list_backups(t.id)) == 1
