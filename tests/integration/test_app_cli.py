"""`dumper keygen`, `dumper targets` and `dumper backup NAME` through cli.main, against
the same SQLite file and MariaDB a server would use.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.cli import main
from dumper.config import load_config

pytestmark = pytest.mark.integration


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, stdout=out, stderr=err, stdout_bytes=io.BytesIO())
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _restore_logger() -> Iterator[None]:
    # the CLI sets up dumper's logger as a process would; give the next tests theirs back
    logger = logging.getLogger("dumper")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SQLITE_PATH": str(tmp_path / "app" / "app.db"), "BACKUP_DIR": str(tmp_path / "b")}


def add_target(env: dict[str, str], params: ConnParams, name: str, **kw: object) -> None:
    app = App.build(load_config(env))
    data: dict[str, object] = {
        "name": name,
        "host": params.host,
        "port": params.port,
        "dbname": params.database,
        "user": params.user,
        "password": params.password,
        "schedule_time": "03:00",
        "retention_days": 7,
    }
    data.update(kw)
    app.create_target(data)
    app.stop(timeout=0)


def test_keygen_prints_a_32_byte_base64_key(env: dict[str, str]) -> None:
    code, out, _ = run(["keygen"], env)
    assert code == 0
    assert len(base64.b64decode(out.strip())) == 32
    assert run(["keygen"], env)[1] != out


def test_targets_lists_saved_targets(env: dict[str, str], scratch_db: ConnParams) -> None:
    code, out, _ = run(["targets"], env)
    assert code == 0 and "no targets" in out
    add_target(env, scratch_db, "shop")
    code, out, _ = run(["targets"], env)
    assert code == 0
    assert "shop" in out and "03:00" in out and "7d" in out and scratch_db.database in out


def test_backup_runs_a_saved_target_and_prints_the_result(
    env: dict[str, str], scratch_db: ConnParams
) -> None:
    conn = connect(scratch_db, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        cur.execute("INSERT INTO t VALUES (1), (2), (3)")
    conn.close()
    add_target(env, scratch_db, "shop")
    code, out, err = run(["backup", "shop"], env)
    assert code == 0, err
    assert "shop_" in out and ".sql.gz" in out and "1 tables, 3 rows" in out
    files = list(Path(env["BACKUP_DIR"]).glob("shop_*.sql.gz"))
    assert len(files) == 1
    code, out, _ = run(["targets"], env)
    assert "success" in out


def test_backup_of_an_unknown_target_fails(env: dict[str, str]) -> None:
    code, _, err = run(["backup", "nope"], env)
    assert code == 1 and "nope" in err


def test_failed_backup_exits_non_zero_with_the_reason(
    env: dict[str, str], scratch_db: ConnParams
) -> None:
    add_target(env, scratch_db, "broken", dbname="no_such_database_zz")
    code, _, err = run(["backup", "broken"], env)
    assert code == 1
    assert "failed" in err and "no_such_database_zz" in err
    assert list(Path(env["BACKUP_DIR"]).iterdir()) == []


def test_invalid_config_is_reported_naming_the_variable(env: dict[str, str]) -> None:
    code, _, err = run(["targets"], {**env, "MAX_PARALLEL_JOBS": "zero"})
    assert code == 1 and "MAX_PARALLEL_JOBS" in err
