"""What the backup user may not see, through the service and the HTTP API against the real
MariaDB: a routine it cannot read fails the backup naming it, missing visibility grants make a
success with warnings (or a failure for a strict target), and a verification cancelled through
the API leaves no scratch database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.compare import scratch_name, verify_by_restore
from dumper.backup.dsn import ConnParams, connect
from dumper.backup.visibility import routine_grant
from dumper.engine import Engine
from dumper.http.server import build_dispatcher
from tests.conftest import admin_exec
from tests.fixtures.dbcompare import execute, query
from tests.integration.test_app_service import fill, target_data
from tests.unit.http.test_handlers import Api, make_config

pytestmark = pytest.mark.integration

USER = "h_priv_service"


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[Callable[..., tuple[App, Api]]]:
    apps: list[App] = []

    def make(engine: Engine | None = None) -> tuple[App, Api]:
        app = App.build(make_config(tmp_path), engine=engine)
        apps.append(app)
        return app, Api(build_dispatcher(app, make_config(tmp_path)))

    yield make
    for app in apps:
        app.stop(timeout=5)


@pytest.fixture
def weak_user(mysql_params: ConnParams, scratch_db: ConnParams) -> Iterator[object]:
    def make(*grants: str) -> ConnParams:
        db = f"`{scratch_db.database}`.*"
        admin_exec(
            mysql_params,
            f"DROP USER IF EXISTS '{USER}'@'%'",
            f"CREATE USER '{USER}'@'%' IDENTIFIED BY 'pw'",
            *(f"GRANT {g if ' ON ' in g else g + ' ON ' + db} TO '{USER}'@'%'" for g in grants),
        )
        return replace(scratch_db, user=USER, password="pw")

    yield make
    admin_exec(mysql_params, f"DROP USER IF EXISTS '{USER}'@'%'")


def _routines(params: ConnParams) -> str:
    return routine_grant(str(query(params, "SELECT VERSION()")[0][0]), params.database)


def _backup(app: App, api: Api, params: ConnParams, **kw: Any) -> dict[str, Any]:
    status, _, target = api("POST", "/api/targets", target_data(params, **kw))
    assert status == 201, target
    status, _, started = api("POST", f"/api/targets/{target['id']}/backup")
    assert status == 202, started
    app.wait_backup(started["id"], timeout=60)
    body: dict[str, Any] = api("GET", f"/api/backups/{started['id']}")[2]
    return body


def test_a_routine_the_user_cannot_read_fails_the_backup_naming_it(
    api_app: Callable[..., tuple[App, Api]], scratch_db: ConnParams, weak_user: Any
) -> None:
    fill(scratch_db)
    execute(scratch_db, "CREATE FUNCTION price() RETURNS INT DETERMINISTIC RETURN 42")
    user = weak_user("SELECT, SHOW VIEW, TRIGGER, EVENT, EXECUTE")
    app, api = api_app()
    body = _backup(app, api, user)
    assert body["status"] == "failed"
    assert body["error_code"] == "dump_failed"
    assert "routine price" in body["notes"] and f"GRANT {_routines(scratch_db)}" in body["notes"]
    assert body["file_name"] is None and body["warnings"] == []


def test_missing_grants_make_a_success_with_warnings_and_strict_fails(
    api_app: Callable[..., tuple[App, Api]], scratch_db: ConnParams, weak_user: Any
) -> None:
    fill(scratch_db)
    user = weak_user("SELECT, SHOW VIEW, TRIGGER")
    app, api = api_app()
    body = _backup(app, api, user)
    assert body["status"] == "success", body["notes"]
    assert len(body["warnings"]) == 2
    assert any("GRANT EVENT ON" in w for w in body["warnings"])
    assert any(f"GRANT {_routines(scratch_db)}" in w for w in body["warnings"])
    target = api("GET", f"/api/targets/{body['target_id']}")[2]
    assert target["last_backup_warnings"] == 2 and target["strict"] is False

    strict = _backup(app, api, user, name="strict", strict=True)
    assert strict["status"] == "failed"
    assert "strict mode" in strict["notes"] and "GRANT EVENT ON" in strict["notes"]
    assert strict["file_name"] is None


def test_a_backup_of_a_user_with_every_grant_has_no_warnings(
    api_app: Callable[..., tuple[App, Api]], scratch_db: ConnParams, weak_user: Any
) -> None:
    fill(scratch_db)
    user = weak_user("SELECT, SHOW VIEW, TRIGGER, EVENT", _routines(scratch_db))
    app, api = api_app()
    body = _backup(app, api, user, strict=True)
    assert (body["status"], body["warnings"]) == ("success", []), body["notes"]


def _scratch_exists(params: ConnParams, name: str) -> bool:
    sql = f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
    return bool(query(params.with_database(""), sql))


def test_a_verification_cancelled_through_the_api_leaves_no_scratch_database(
    api_app: Callable[..., tuple[App, Api]], scratch_db: ConnParams
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

    fill(scratch_db)
    app, api = api_app(Engine(real.dump, real.restore, real.verify, test_restore=held))
    body = _backup(app, api, scratch_db)
    backup_id = body["id"]
    assert api("POST", f"/api/backups/{backup_id}/verify")[0] == 202
    assert inside.wait(30)
    jobs = api("GET", "/api/jobs")[2]
    assert [(j["kind"], j["id"]) for j in jobs] == [("verify", backup_id)]
    status, _, cancelled = api("POST", f"/api/backups/{backup_id}/cancel")
    assert status == 202, cancelled
    assert cancelled["status"] == "success"  # the backup itself stays as it was
    assert app.runner.wait("verify", backup_id, timeout=30)
    after = api("GET", f"/api/backups/{backup_id}")[2]
    assert seen == [True]
    assert after["verification"]["status"] == "failed"
    assert "cancel" in after["verification"]["notes"]
    assert not _scratch_exists(scratch_db, scratch_name(scratch_db.database, backup_id))
    # nothing runs now: a second cancel is a conflict, not a cancel of the finished backup
    assert api("POST", f"/api/backups/{backup_id}/cancel")[0] == 409
    # the target's card shows the last verified backup
    target = api("GET", f"/api/targets/{body['target_id']}")[2]
    assert target["last_verification"]["backup_id"] == backup_id
    assert target["last_verification"]["passed"] is False


def test_the_card_shows_a_passed_verification(
    api_app: Callable[..., tuple[App, Api]], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    app, api = api_app()
    body = _backup(app, api, scratch_db, verify_after_backup=True)
    target = api("GET", f"/api/targets/{body['target_id']}")[2]
    last = target["last_verification"]
    assert last["backup_id"] == body["id"] and last["passed"] is True
    assert last["finished_at"] is not None
