"""Verified backups wired into the service: a verification is a job of its target, through App
and the HTTP API, against a real MariaDB; the scratch database never outlives it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.compare import scratch_name, verify_by_restore
from dumper.backup.dsn import ConnParams, connect
from dumper.engine import Engine
from dumper.http.server import build_dispatcher
from dumper.store import FAILED
from tests.fixtures.dbcompare import execute, query
from tests.integration.test_app_service import fill, target_data
from tests.unit.http.test_handlers import Api, make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(engine: Engine | None = None) -> App:
        app = App.build(make_config(tmp_path), engine=engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop(timeout=5)


def _scratch_exists(params: ConnParams, name: str) -> bool:
    sql = f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
    return bool(query(params.with_database(""), sql))


def _backed_up(app: App, db: ConnParams, **kw: Any) -> tuple[int, int]:
    fill(db)
    target = app.create_target(target_data(db, **kw))
    backup = app.start_backup(target.id)
    app.wait_backup(backup.id, timeout=60)
    return target.id, backup.id


def test_verify_a_real_backup_passes_and_drops_the_scratch_database(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    app = make_app()
    _, backup_id = _backed_up(app, scratch_db)
    before = app.get_backup(backup_id)
    assert before.verification is None
    app.verify_backup(backup_id)
    assert app.runner.wait("verify", backup_id, timeout=60)
    after = app.get_backup(backup_id)
    assert after.verification is not None
    assert after.verification.status == "passed", after.verification.notes
    assert after.verification.finished_at is not None
    assert not _scratch_exists(scratch_db, scratch_name(scratch_db.database, backup_id))
    # a verification never alters the backup
    assert (after.status, after.sha256, after.size_bytes, after.notes) == (
        before.status,
        before.sha256,
        before.size_bytes,
        before.notes,
    )
    text = "\n".join(f"{t.target}:{t.last_verification_ok}" for t in app.metrics().targets)
    assert "shop:True" in text
    assert app.metrics().targets[0].last_verification_timestamp_seconds is not None


def test_a_cancelled_verification_leaves_no_scratch_database(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    real = Engine.default()
    inside, seen = threading.Event(), []

    def held(path: Path, params: ConnParams, scratch: str, **kw: Any) -> Any:
        calls = [0]

        def slow_connect(p: ConnParams, **ckw: Any) -> Any:
            calls[0] += 1
            if calls[0] == 2:  # the scratch database exists; the restore is about to connect
                seen.append(_scratch_exists(scratch_db, scratch))
                inside.set()
                kw["cancel"].wait(30)
            return connect(p, **ckw)

        return verify_by_restore(path, params, scratch, connect=slow_connect, **kw)

    app = make_app(Engine(real.dump, real.restore, real.verify, test_restore=held))
    _, backup_id = _backed_up(app, scratch_db)
    app.verify_backup(backup_id)
    assert inside.wait(30)
    assert app.runner.cancel("verify", backup_id)
    assert app.runner.wait("verify", backup_id, timeout=30)
    view = app.get_backup(backup_id)
    assert seen == [True]
    assert view.verification is not None and view.verification.status == "failed"
    assert "cancel" in view.verification.notes
    assert view.status == "success"
    assert not _scratch_exists(scratch_db, scratch_name(scratch_db.database, backup_id))


def test_verify_after_backup_runs_one_right_after_the_backup(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    app = make_app()
    target_id, backup_id = _backed_up(app, scratch_db, verify_after_backup=True)
    assert app.get_target(target_id).verify_after_backup is True
    # the same job: when the backup's job ends, its verification has ended too
    view = app.get_backup(backup_id)
    assert view.status == "success"
    assert view.verification is not None and view.verification.status == "passed"


def test_a_failed_verification_emits_verification_failed(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    app = make_app()
    _, backup_id = _backed_up(app, scratch_db)
    # the scratch database already exists: the verification refuses it and fails
    scratch = scratch_name(scratch_db.database, backup_id)
    execute(scratch_db, f"CREATE DATABASE `{scratch}`")
    events: list[str] = []
    app.runner._on_event = lambda e: events.append(e.name)
    try:
        app.verify_backup(backup_id)
        assert app.runner.wait("verify", backup_id, timeout=60)
    finally:
        execute(scratch_db, f"DROP DATABASE `{scratch}`")
    view = app.get_backup(backup_id)
    assert view.verification is not None and view.verification.status == "failed"
    assert "verification_failed" in events


def test_the_verify_route_statuses(
    make_app: Callable[..., App], scratch_db: ConnParams, tmp_path: Path
) -> None:
    release = threading.Event()
    real = Engine.default()

    def held(path: Path, params: ConnParams, scratch: str, **kw: Any) -> Any:
        release.wait(30)
        return real.test_restore(path, params, scratch, **kw)

    app = make_app(Engine(real.dump, real.restore, real.verify, test_restore=held))
    api = Api(build_dispatcher(app, make_config(tmp_path)))
    target_id, backup_id = _backed_up(app, scratch_db)
    assert api("POST", "/api/backups/999999/verify")[0] == 404
    status, _, body = api("POST", f"/api/backups/{backup_id}/verify")
    assert status == 202 and body["id"] == backup_id
    assert api("POST", f"/api/backups/{backup_id}/verify")[0] == 409
    assert api("POST", f"/api/targets/{target_id}/backup")[0] == 409
    release.set()
    assert app.runner.wait("verify", backup_id, timeout=60)
    status, _, body = api("GET", f"/api/backups/{backup_id}")
    assert status == 200
    assert set(body["verification"]) == {"status", "started_at", "finished_at", "notes"}
    assert body["verification"]["status"] == "passed"
    # a backup that did not succeed cannot be verified
    other = app.store.insert_backup(target_id, app.clock.now(), "other.sql.gz", "manual")
    app.store.finish_backup(
        other.id,
        status=FAILED,
        finished_at=app.clock.now(),
        duration_seconds=0.0,
        notes="x",
        error_code="dump_failed",
    )
    assert api("POST", f"/api/backups/{other.id}/verify")[0] == 422
