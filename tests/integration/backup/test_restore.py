"""restore_file against the real server: round trips, refusals before execution, error reports."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.restore import RestoreProgress, restore_file
from dumper.errors import BackupCorrupt, Cancelled, ConnectionFailed, RestoreFailed
from tests.fixtures.dbcompare import execute, query

pytestmark = pytest.mark.integration

HEADER = b"""-- dumper 0.1.0 SQL dump
-- Server version: 10.11.19-MariaDB
-- Database: src
-- Started: 2026-11-26T03:00:00Z
-- Consistent snapshot: yes
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
"""
FOOTER = b"""/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
"""
HEADER_STATEMENTS = 7


def dumper_file(
    tmp_path: Path, body: bytes, tables: dict[str, int], name: str = "d.sql.gz"
) -> Path:
    """A file in the documented dumper format around `body`."""
    manifest = json.dumps({"version": 1, "tables": tables, "rows": sum(tables.values())})
    sql = (
        HEADER
        + body
        + FOOTER
        + b"-- Dump completed 2026-11-26T03:00:12Z\n-- dumper-manifest "
        + manifest.encode()
        + b"\n"
    )
    path = tmp_path / name
    path.write_bytes(gzip.compress(sql) if name.endswith(".gz") else sql)
    return path


def tables_of(params: ConnParams) -> list[str]:
    return sorted(r[0] for r in query(params, "SHOW FULL TABLES"))


def checksums(params: ConnParams) -> dict[str, int]:
    out = {}
    for table, _ in query(params, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'"):
        out[table] = query(params, f"CHECKSUM TABLE `{table}` EXTENDED")[0][1]
    return out


def mariadb_dump(params: ConnParams, out: Path, *extra: str) -> Path:
    tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if tool is None:
        pytest.skip("no mariadb-dump/mysqldump installed")
    cmd = [tool, "-h", params.host, "-P", str(params.port), "-u", params.user]
    cmd += ["--single-transaction", "--hex-blob", "--routines", "--triggers", "--events", *extra]
    if "--databases" not in extra:
        cmd.append(params.database)
    env = {**os.environ, "MYSQL_PWD": params.password}
    sql = subprocess.run(cmd, check=True, capture_output=True, env=env).stdout
    out.write_bytes(gzip.compress(sql) if out.name.endswith(".gz") else sql)
    return out


def make_source(params: ConnParams, rows: int = 3000) -> None:
    execute(
        params,
        "CREATE TABLE kinds (id INT PRIMARY KEY, name VARCHAR(50), price DECIMAL(12,3), "
        "ratio DOUBLE, born DATETIME(3), data BLOB, note TEXT, flag BIT(3)) CHARACTER SET utf8mb4",
        "CREATE TABLE parent (id INT PRIMARY KEY, child_id INT, KEY (child_id))",
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, "
        "FOREIGN KEY (parent_id) REFERENCES parent (id))",
        "ALTER TABLE parent ADD FOREIGN KEY (child_id) REFERENCES child (id)",
        "SET FOREIGN_KEY_CHECKS=0",
        "INSERT INTO parent VALUES (1, 10), (2, 20)",
        "INSERT INTO child VALUES (10, 1), (20, 2)",
        "CREATE TABLE audit (n INT)",
        "CREATE TRIGGER kinds_ai AFTER INSERT ON kinds FOR EACH ROW "
        "BEGIN INSERT INTO audit VALUES (NEW.id); INSERT INTO audit VALUES (-NEW.id); END",
        "CREATE PROCEDURE p_count(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM kinds; END",
        "CREATE VIEW v_kinds AS SELECT id, name FROM kinds WHERE id < 10",
    )
    values = ",".join(
        f"({i}, 'name; {i} ''q'' \\\\ é', {i}.125, {i}/7, '2024-01-02 03:04:05.{i % 1000:03d}', "
        f"UNHEX('00FF{i:04X}27225C3B'), {'NULL' if i % 5 == 0 else repr('-- not a comment')}, "
        f"b'{i % 8:03b}')"
        for i in range(rows)
    )
    execute(params, f"INSERT INTO kinds VALUES {values}")


def test_restores_a_real_mariadb_dump_file_exactly(scratch_db_factory, tmp_path):
    src, dst = scratch_db_factory(), scratch_db_factory()
    make_source(src)
    dump = mariadb_dump(src, tmp_path / "m.sql.gz")
    result = restore_file(dump, dst)
    assert result.statements > 20
    assert tables_of(dst) == tables_of(src)
    assert checksums(dst) == checksums(src)
    assert query(dst, "SELECT COUNT(*) FROM kinds")[0][0] == 3000
    triggers = query(
        dst,
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    )
    assert triggers == [("kinds_ai",)]
    assert query(
        dst,
        "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
    ) == [("p_count",)]
    assert query(dst, "SELECT COUNT(*) FROM v_kinds")[0][0] == 10


def test_restores_plain_mariadb_dump_with_one_insert_per_row(scratch_db_factory, tmp_path):
    src, dst = scratch_db_factory(), scratch_db_factory()
    make_source(src, rows=500)
    dump = mariadb_dump(src, tmp_path / "m.sql", "--skip-extended-insert")
    result = restore_file(dump, dst)
    assert result.statements > 500  # one INSERT per row, sent in batches
    assert checksums(dst) == checksums(src)


def test_restores_foreign_keys_with_a_cycle_between_two_tables(scratch_db, tmp_path):
    body = b"""DROP TABLE IF EXISTS `a`;
CREATE TABLE `a` (`id` int NOT NULL, `b_id` int, PRIMARY KEY (`id`), KEY (`b_id`),
  CONSTRAINT `a_b` FOREIGN KEY (`b_id`) REFERENCES `b` (`id`));
DROP TABLE IF EXISTS `b`;
CREATE TABLE `b` (`id` int NOT NULL, `a_id` int, PRIMARY KEY (`id`), KEY (`a_id`),
  CONSTRAINT `b_a` FOREIGN KEY (`a_id`) REFERENCES `a` (`id`));
INSERT INTO `a` (`id`, `b_id`) VALUES (1,100),(2,200);
INSERT INTO `b` (`id`, `a_id`) VALUES (100,2),(200,1);
"""
    path = dumper_file(tmp_path, body, {"a": 2, "b": 2})
    restore_file(path, scratch_db)
    joined = query(scratch_db, "SELECT a.id, b.id FROM a JOIN b ON a.b_id = b.id ORDER BY a.id")
    assert joined == [(1, 100), (2, 200)]
    fks = query(
        scratch_db,
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1",
    )
    assert fks == [("a_b",), ("b_a",)]


def test_truncated_gzip_is_refused_before_anything_executes(scratch_db, tmp_path):
    body = b"CREATE TABLE `first` (id int);\n" + b"".join(
        b"INSERT INTO `first` VALUES (%d);\n" % i for i in range(5000)
    )
    path = dumper_file(tmp_path, body, {"first": 5000})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(BackupCorrupt, match="truncated"):
        restore_file(path, scratch_db)
    assert tables_of(scratch_db) == []


def test_plain_file_without_marker_is_refused_before_anything_executes(scratch_db, tmp_path):
    path = tmp_path / "cut.sql"
    path.write_bytes(HEADER + b"CREATE TABLE `first` (id int);\nINSERT INTO `first` VALUES (1);\n")
    with pytest.raises(BackupCorrupt, match="incomplete"):
        restore_file(path, scratch_db)
    assert tables_of(scratch_db) == []


def test_failing_statement_is_reported_with_number_line_text_and_server_error(scratch_db, tmp_path):
    body = b"CREATE TABLE `t` (id int PRIMARY KEY);\n\nINSERT INTO `t` VALUES (1);\n" + (
        b"-- the next one fails\nINSERT INTO `missing`\n  VALUES (2);\n"
        b"INSERT INTO `t` VALUES (3);\n"
    )
    path = dumper_file(tmp_path, body, {"t": 2})
    line = (HEADER + body).split(b"\n").index(b"INSERT INTO `missing`") + 1
    number = HEADER_STATEMENTS + 3
    with pytest.raises(RestoreFailed) as info:
        restore_file(path, scratch_db)
    message = str(info.value)
    assert message.startswith(
        f"statement {number} (line {line}): INSERT INTO `missing` VALUES (2): "
    )
    assert "(1146)" in message and "missing" in message
    assert query(scratch_db, "SELECT id FROM t") == [(1,)]  # what ran before stays


def test_failure_inside_a_batch_of_small_inserts_names_the_right_statement(scratch_db, tmp_path):
    inserts = [b"INSERT INTO `t` VALUES (%d);" % i for i in (2, 3, 2, 5)]
    body = (
        b"CREATE TABLE `t` (id int PRIMARY KEY);\n"
        + b"INSERT INTO `t` VALUES (1) -- a comment right before the delimiter\n;\n"
        + b"\n".join(inserts)
        + b"\n"
    )
    path = dumper_file(tmp_path, body, {"t": 5})
    line = HEADER.count(b"\n") + 1 + 5  # CREATE is on the line after the header
    with pytest.raises(RestoreFailed) as info:
        restore_file(path, scratch_db)
    assert str(info.value).startswith(
        f"statement {HEADER_STATEMENTS + 5} (line {line}): INSERT INTO `t` VALUES (2): (1062)"
    )
    assert query(scratch_db, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def test_a_one_database_file_restores_into_the_named_database_and_creates_none(
    scratch_db_factory, mysql_params, tmp_path
):
    src, dst = scratch_db_factory(), scratch_db_factory()
    execute(src, "CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)")
    dump = mariadb_dump(src, tmp_path / "dbs.sql", "--databases", src.database)
    execute(mysql_params, f"DROP DATABASE `{src.database}`")
    restore_file(dump, dst)
    assert query(dst, "SELECT id FROM t") == [(1,)]
    found = query(mysql_params, f"SHOW DATABASES LIKE '{src.database}'")
    assert found == []


def test_progress_reports_bytes_and_statements_up_to_the_total(scratch_db, tmp_path):
    body = b"CREATE TABLE `t` (id int, s text);\n" + b"".join(
        b"INSERT INTO `t` VALUES (%d, '%s');\n" % (i, os.urandom(3000).hex().encode())
        for i in range(400)
    )
    path = dumper_file(tmp_path, body, {"t": 400})
    seen: list[RestoreProgress] = []
    result = restore_file(path, scratch_db, progress=seen.append)
    assert len(seen) > 2
    assert [p.bytes_read for p in seen] == sorted(p.bytes_read for p in seen)
    assert seen[-1].bytes_read == seen[-1].bytes_total == path.stat().st_size
    assert seen[-1].statements == result.statements == HEADER_STATEMENTS + 401 + 5
    assert query(scratch_db, "SELECT COUNT(*) FROM t")[0][0] == 400


def test_cancel_stops_the_restore_between_statements(scratch_db, tmp_path):
    body = b"CREATE TABLE `t` (id int, s text);\n" + b"".join(
        b"INSERT INTO `t` VALUES (%d, '%s');\n" % (i, os.urandom(20000).hex().encode())
        for i in range(300)
    )
    path = dumper_file(tmp_path, body, {"t": 300})
    cancel = threading.Event()

    def on_progress(p: RestoreProgress) -> None:
        if p.statements > HEADER_STATEMENTS + 1:
            cancel.set()

    with pytest.raises(Cancelled) as cancelled:
        restore_file(path, scratch_db, progress=on_progress, cancel=cancel)
    rows = query(scratch_db, "SELECT COUNT(*) FROM t")[0][0]
    assert 0 < rows < 300
    # the count is a field, so the job layer never reads it out of the message
    assert cancelled.value.statements is not None
    assert f"after {cancelled.value.statements} statements" in cancelled.value.message


def test_cancel_while_the_file_is_checked_runs_nothing(scratch_db, tmp_path):
    from tests.unit.backup.test_verify import CancelAfter

    body = b"CREATE TABLE `t` (id int, s text);\n" + b"".join(
        b"INSERT INTO `t` VALUES (%d, '%s');\n" % (i, os.urandom(20000).hex().encode())
        for i in range(300)
    )
    path = dumper_file(tmp_path, body, {"t": 300})
    with pytest.raises(Cancelled, match="after 0 statements, cancelled while the file was") as c:
        restore_file(path, scratch_db, cancel=CancelAfter(2))
    assert c.value.statements == 0
    assert tables_of(scratch_db) == []


def test_unreachable_server_is_a_connection_failure(tmp_path, mysql_params):
    path = dumper_file(tmp_path, b"SELECT 1;\n", {})
    from tests.conftest import free_port

    params = ConnParams(
        host="127.0.0.1",
        port=free_port(),
        user="root",
        password="",
        database="x",
        connect_timeout=2,
    )
    with pytest.raises(ConnectionFailed):
        restore_file(path, params)


def test_dumper_format_plain_file_with_delimiter_blocks_restores(scratch_db, tmp_path):
    body = b"""CREATE TABLE `t` (id int, n int);
CREATE TABLE `log` (id int);
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER `t_ai` AFTER INSERT ON `t` FOR EACH ROW BEGIN
  INSERT INTO `log` VALUES (NEW.id);
  INSERT INTO `log` VALUES (NEW.id * 10);
END */;;
DELIMITER ;
INSERT INTO `t` VALUES (1, 2);
"""
    restore_file(dumper_file(tmp_path, body, {"t": 1, "log": 0}, "d.sql"), scratch_db)
    assert query(scratch_db, "SELECT id FROM log ORDER BY id") == [(1,), (10,)]


@pytest.mark.private_server
def test_server_killed_mid_restore_fails_naming_the_statement(private_mariadb, tmp_path):
    body = b"CREATE TABLE `t` (id int, s text);\n" + b"".join(
        b"INSERT INTO `t` VALUES (%d, '%s');\n" % (i, os.urandom(50_000).hex().encode())
        for i in range(200)
    )
    path = dumper_file(tmp_path, body, {"t": 200})

    def kill_early(p: RestoreProgress) -> None:
        if p.statements > HEADER_STATEMENTS + 5:
            private_mariadb.kill()

    with pytest.raises(
        RestoreFailed, match=r"^statement \d+ \(line \d+\): INSERT INTO `t`.*\(20\d\d\)"
    ):
        restore_file(path, private_mariadb.params, progress=kill_early)
