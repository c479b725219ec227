"""`python -m dumper` as a real subprocess against the real server: exit codes and messages."""

from __future__ import annotations

import gzip
import os
import pty
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from dumper.backup.dsn import ConnParams, connect
from tests.conftest import DEFAULT_TEST_DSN

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PS_WARNING = (
    b"dumper: warning: a password in the DSN is visible to other users in `ps`; "
    b"use MYSQL_PWD or --password-file\n"
)


def base_env() -> dict[str, str]:
    """The environment, with the test server's password in MYSQL_PWD (never in the argv)."""
    server = urlsplit(os.environ.get("DUMPER_TEST_DSN", DEFAULT_TEST_DSN))
    base = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    if server.password:
        base["MYSQL_PWD"] = unquote(server.password)
    return base


def dumper(
    *args: str, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dumper", *args],
        cwd=ROOT,
        env={**base_env(), **(env or {})},
        capture_output=True,
        timeout=120,
        **kw,
    )


def url(p: ConnParams, *, password: bool = False) -> str:
    secret = f":{quote(p.password, safe='')}" if password and p.password else ""
    return f"mysql://{quote(p.user, safe='')}{secret}@{p.host}:{p.port}/{p.database}"


def sql(params: ConnParams, *statements: str) -> list[tuple[Any, ...]]:
    conn = connect(params, autocommit=True)
    try:
        with conn.cursor() as cur:
            rows: list[tuple[Any, ...]] = []
            for s in statements:
                cur.execute(s)
                rows = list(cur.fetchall())
            return rows
    finally:
        conn.close()


def fill(params: ConnParams) -> None:
    sql(
        params,
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(40), b BLOB)",
        "INSERT INTO t VALUES (1, 'one; ''quoted''', X'00FF27'), (2, NULL, NULL), (3, 'é', '')",
    )


def see_routines(admin: ConnParams, grantee: str, *databases: str) -> None:
    """The grant that lets a user read routines on this server (else every dump warns of it)."""
    from dumper.backup.visibility import routine_grant

    version = str(sql(admin, "SELECT VERSION()")[0][0])
    for database in databases:
        sql(admin, f"GRANT {routine_grant(version, database)} TO {grantee}")


def checksum(params: ConnParams) -> Any:
    return sql(params, "CHECKSUM TABLE t EXTENDED")[0][1]


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and text.endswith("\n"), text
    return text


def test_dump_then_verify_then_restore_round_trip(scratch_db_factory, tmp_path):
    src, dst = scratch_db_factory(), scratch_db_factory()
    fill(src)
    out = tmp_path / "s.sql.gz"
    done = dumper("dump", url(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    checked = dumper("verify", str(out))
    assert checked.returncode == 0 and b"OK (dumper, gzip" in checked.stdout
    restored = dumper("restore", str(out), url(dst))
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == b"" and b"restored" in restored.stdout
    assert checksum(dst) == checksum(src)


def test_dump_over_two_connections_restores_the_same_and_a_user_without_reload_is_told(
    scratch_db_factory, mysql_params, tmp_path
):
    src, dst = scratch_db_factory(), scratch_db_factory()
    fill(src)
    out = tmp_path / "p.sql.gz"
    done = dumper("dump", url(src), "-o", str(out), "--parallel", "2")
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert dumper("restore", str(out), url(dst)).returncode == 0
    assert checksum(dst) == checksum(src)
    user = f"dumper_cp_{uuid.uuid4().hex[:8]}"
    hosts = ("%", "localhost")
    sql(
        mysql_params,
        *(f"CREATE USER '{user}'@'{h}' IDENTIFIED BY 'pw'" for h in hosts),
        *(f"GRANT ALL ON `{src.database}`.* TO '{user}'@'{h}'" for h in hosts),
    )
    try:
        limited = ConnParams(src.host, src.port, user, "", src.database)
        env = {"MYSQL_PWD": "pw"}
        fell_back = dumper(
            "dump", url(limited), "-o", str(tmp_path / "f.sql.gz"), "--parallel", "2", env=env
        )
    finally:
        sql(mysql_params, *(f"DROP USER IF EXISTS '{user}'@'{h}'" for h in hosts))
    assert fell_back.returncode == 0, fell_back.stderr
    lines = fell_back.stderr.decode().splitlines()
    told = [line for line in lines if "dumped over one connection instead of several" in line]
    assert len(told) == 1 and told[0].startswith("dumper: warning: "), lines
    assert "RELOAD" in told[0]
    assert dumper("dump", url(src), "-o", "-", "--parallel", "5").returncode == 2


def test_dump_to_plain_sql_and_to_stdout(scratch_db, tmp_path):
    fill(scratch_db)
    plain = tmp_path / "s.sql"
    assert dumper("dump", url(scratch_db), "-o", str(plain)).returncode == 0
    assert plain.read_bytes().startswith(b"-- dumper ")
    piped = dumper("dump", url(scratch_db), "-o", "-")
    assert piped.returncode == 0 and piped.stderr == b""
    assert piped.stdout.startswith(b"-- dumper ")
    assert piped.stdout.rstrip().rsplit(b"\n", 1)[-1].startswith(b"-- dumper-manifest ")


def test_password_from_mysql_pwd_and_percent_encoded_url(scratch_db, mysql_params, tmp_path):
    user, password = f"dumper_cli_{uuid.uuid4().hex[:8]}", "p@ss:w/rd%;"
    admin = mysql_params.with_database("")
    sql(admin, f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        sql(admin, f"GRANT ALL ON `{scratch_db.database}`.* TO '{user}'@'%'")
        see_routines(admin, f"'{user}'@'%'", scratch_db.database)
        fill(scratch_db)
        params = ConnParams(scratch_db.host, scratch_db.port, user, password, scratch_db.database)
        env_run = dumper(
            "dump",
            url(params, password=False),
            "-o",
            str(tmp_path / "a.sql"),
            env={"MYSQL_PWD": password},
        )
        assert env_run.returncode == 0, env_run.stderr
        url_run = dumper("dump", url(params, password=True), "-o", str(tmp_path / "b.sql"))
        assert url_run.returncode == 0, url_run.stderr
        assert url_run.stderr == PS_WARNING
        denied = dumper(
            "dump", url(params), "-o", str(tmp_path / "c.sql"), env={"MYSQL_PWD": "wrong"}
        )
        assert denied.returncode == 1
        assert "Access denied" in one_line(denied.stderr)
        assert not (tmp_path / "c.sql").exists()
    finally:
        sql(admin, f"DROP USER '{user}'@'%'")


def test_restore_of_a_truncated_file_exits_1_and_executes_nothing(scratch_db, tmp_path):
    body = b"".join(b"INSERT INTO `t` VALUES (%d);\n" % i for i in range(3000))
    data = gzip.compress(
        b"-- dumper 0.1.0 SQL dump\nCREATE TABLE `t` (id int);\n"
        + body
        + b"-- Dump completed 2026-11-26T03:00:12Z\n"
        b'-- dumper-manifest {"version": 1, "tables": {"t": 3000}, "rows": 3000}\n'
    )
    path = tmp_path / "cut.sql.gz"
    path.write_bytes(data[: len(data) // 2])
    done = dumper("restore", str(path), url(scratch_db))
    assert done.returncode == 1 and done.stdout == b""
    assert one_line(done.stderr).startswith("dumper: gzip data is truncated")
    assert sql(scratch_db, "SHOW TABLES") == []


def test_failing_statement_is_one_line_naming_statement_and_line(scratch_db, tmp_path):
    path = tmp_path / "bad.sql"
    path.write_bytes(
        b"-- dumper 0.1.0 SQL dump\nCREATE TABLE `t` (id int);\n\n"
        b"INSERT INTO `t`\n VALUES ('x', 'too many');\n"
        b"-- Dump completed 2026-11-26T03:00:12Z\n"
        b'-- dumper-manifest {"version": 1, "tables": {"t": 1}, "rows": 1}\n'
    )
    done = dumper("restore", str(path), url(scratch_db))
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(
        "dumper: statement 2 (line 4): INSERT INTO `t` VALUES ('x', 'too many'):"
    )
    assert "(1136)" in line


def test_restore_into_a_missing_database_fails_clearly(mysql_params, tmp_path):
    path = tmp_path / "ok.sql"
    path.write_bytes(b"-- MySQL dump 10.13\nSELECT 1;\n-- Dump completed\n")
    missing = mysql_params.with_database(f"dumper_missing_{uuid.uuid4().hex[:8]}")
    done = dumper("restore", str(path), url(missing))
    assert done.returncode == 1
    assert "Unknown database" in one_line(done.stderr)


def test_dump_of_an_unreachable_server_leaves_no_file(tmp_path):
    from tests.conftest import free_port

    out = tmp_path / "x.sql.gz"
    done = dumper("dump", f"mysql://root@127.0.0.1:{free_port()}/db", "-o", str(out))
    assert done.returncode == 1 and "cannot connect" in one_line(done.stderr)
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_is_drawn_only_when_stderr_is_a_terminal(scratch_db_factory, tmp_path):
    src, dst = scratch_db_factory(), scratch_db_factory()
    fill(src)
    out = tmp_path / "s.sql.gz"
    assert dumper("dump", url(src), "-o", str(out)).returncode == 0
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dumper", "restore", str(out), url(dst)],
            cwd=ROOT,
            env=base_env(),
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
        )
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    assert done.returncode == 0
    assert b"\rchecking s.sql.gz" in drawn
    plain = dumper("restore", str(out), url(dst))
    assert plain.returncode == 0 and plain.stderr == b""


def test_ctrl_c_cancels_a_restore_cleanly_with_exit_130(scratch_db, tmp_path):
    rows = b"".join(
        b"INSERT INTO `t` VALUES (%d, '%s');\n" % (i, os.urandom(50_000).hex().encode())
        for i in range(400)
    )
    path = tmp_path / "big.sql"
    path.write_bytes(
        b"-- dumper 0.1.0 SQL dump\nCREATE TABLE `t` (id int, s mediumtext);\n"
        + rows
        + b"-- Dump completed 2026-11-26T03:00:12Z\n"
        b'-- dumper-manifest {"version": 1, "tables": {"t": 400}, "rows": 400}\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dumper", "restore", str(path), url(scratch_db)],
        cwd=ROOT,
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not sql(scratch_db, "SHOW TABLES") and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert one_line(err).startswith("dumper: cancelled: restore cancelled after ")
    assert sql(scratch_db, "SELECT COUNT(*) FROM t")[0][0] < 400


def test_password_file_gives_dump_and_restore_the_password_out_of_sight_of_ps(
    scratch_db_factory, mysql_params, tmp_path
):
    src, dst = scratch_db_factory(), scratch_db_factory()
    user, password = f"dumper_pwf_{uuid.uuid4().hex[:8]}", "s3cr3t pw;x"
    admin = mysql_params.with_database("")
    sql(admin, f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        for db in (src, dst):
            sql(admin, f"GRANT ALL ON `{db.database}`.* TO '{user}'@'%'")
        see_routines(admin, f"'{user}'@'%'", src.database)
        fill(src)
        as_user = {"user": user, "password": ""}
        secret = tmp_path / "pw"
        secret.write_text(password + "\nnot part of it\n")  # the first line, without its newline
        out = tmp_path / "s.sql.gz"
        no_env = {"MYSQL_PWD": "wrong"}  # the file wins over MYSQL_PWD
        src_url = url(ConnParams(src.host, src.port, database=src.database, **as_user))
        dst_url = url(ConnParams(dst.host, dst.port, database=dst.database, **as_user))
        done = dumper("dump", src_url, "-o", str(out), "--password-file", str(secret), env=no_env)
        assert done.returncode == 0, done.stderr
        assert done.stderr == b""
        restored = dumper("restore", str(out), dst_url, "--password-file", str(secret), env=no_env)
        assert restored.returncode == 0, restored.stderr
        assert restored.stderr == b""
        assert checksum(dst) == checksum(src)
        secret.write_text("wrong\n")
        denied = dumper(
            "dump", src_url, "-o", str(tmp_path / "d.sql"), "--password-file", str(secret)
        )
        assert denied.returncode == 1 and "Access denied" in one_line(denied.stderr)
    finally:
        sql(admin, f"DROP USER '{user}'@'%'")
