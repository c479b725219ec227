"""Database helper for the end-to-end tests, run with the repo's .venv python (PyMySQL).

The server comes from DUMPER_TEST_DSN (default: the local MariaDB as root), as in the Python tests.
  db.py create NAME            create and seed the scratch database NAME
  db.py drop NAME              drop it
  db.py query NAME SQL         print the rows of SQL as JSON
  db.py exec NAME SQL          run one statement and commit
  db.py lock NAME TABLE        hold LOCK TABLES TABLE WRITE until stdin closes (prints "locked")
  db.py age-backups SQLITE DAYS TARGET_ID  move the target's backup rows (and files' mtimes) DAYS days back
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dumper.backup.dsn import ConnParams, connect, parse_dsn

CUSTOMERS = 50
ORDERS = 2000


def server() -> ConnParams:
    dsn = os.environ.get("DUMPER_TEST_DSN", "mysql://root@127.0.0.1:3306/test")
    return parse_dsn(dsn, env_password=os.environ.get("MYSQL_PWD"))


def run(params: ConnParams, *statements: str) -> list[tuple[Any, ...]]:
    conn = connect(params, autocommit=True)
    try:
        rows: list[tuple[Any, ...]] = []
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
                rows = list(cur.fetchall())
        return rows
    finally:
        conn.close()


def create(name: str) -> None:
    admin = server().with_database("")
    run(
        admin,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
    )
    db = server().with_database(name)
    run(
        db,
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL,"
        " email VARCHAR(200) NULL) ENGINE=InnoDB",
        "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL,"
        " total DECIMAL(10,2) NOT NULL, note TEXT, KEY (customer_id)) ENGINE=InnoDB",
    )
    customers = ",".join(
        f"({i}, 'Customer {i}', 'c{i}@example.com')" for i in range(1, CUSTOMERS + 1)
    )
    orders = ",".join(
        f"({i}, {i % CUSTOMERS + 1}, {i * 1.25:.2f}, 'order note {i} with some text to dump')"
        for i in range(1, ORDERS + 1)
    )
    run(db, f"INSERT INTO customers VALUES {customers}", f"INSERT INTO orders VALUES {orders}")


def lock(name: str, table: str) -> None:
    conn = connect(server().with_database(name), autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"LOCK TABLES `{table}` WRITE")
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        cur.execute("UNLOCK TABLES")
    conn.close()


def age_backups(sqlite_path: str, days: int, target_id: int) -> None:
    """Make the target's backups look `days` old, in the app's own store and on disk."""
    shift = timedelta(days=days)
    db = sqlite3.connect(sqlite_path, timeout=10)
    try:
        rows = db.execute(
            "SELECT id, started_at, finished_at, file_path FROM backups WHERE target_id = ?",
            [target_id],
        ).fetchall()
        for row_id, started, finished, file_path in rows:
            moved = [
                (datetime.fromisoformat(v) - shift).isoformat(timespec="microseconds") if v else v
                for v in (started, finished)
            ]
            db.execute(
                "UPDATE backups SET started_at = ?, finished_at = ? WHERE id = ?",
                [*moved, row_id],
            )
            path = Path(file_path) if file_path else None
            if path is not None and not path.is_absolute():
                path = Path(os.environ.get("BACKUP_DIR", ".")) / path
            if path is not None and path.exists():
                old = (datetime.now(UTC) - shift).timestamp()
                os.utime(path, (old, old))
        db.commit()
    finally:
        db.close()


def main(argv: list[str]) -> None:
    cmd, args = argv[0], argv[1:]
    if cmd == "create":
        create(args[0])
    elif cmd == "drop":
        run(server().with_database(""), f"DROP DATABASE IF EXISTS `{args[0]}`")
    elif cmd == "query":
        rows = run(server().with_database(args[0]), args[1])
        print(json.dumps([list(r) for r in rows], default=str))
    elif cmd == "exec":
        run(server().with_database(args[0]), args[1])
    elif cmd == "lock":
        lock(args[0], args[1])
    elif cmd == "age-backups":
        age_backups(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
