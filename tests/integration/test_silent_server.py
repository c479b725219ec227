"""A target whose port accepts TCP but never speaks MySQL (a redis or postgres port typed by
mistake), and a server that goes silent mid-dump: jobs fail after DB_CONNECT_TIMEOUT, cancel
and shutdown end them within seconds in any phase, and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.backup.dsn import ConnParams, connect
from dumper.config import load_config
from dumper.engine import Engine
from dumper.store import Store

pytestmark = pytest.mark.integration

LONG = 600  # the largest DB_CONNECT_TIMEOUT: a cancel must not wait for it


class SilentServer:
    """Listens on 127.0.0.1:0, accepts every connection and never writes a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.accepted = threading.Semaphore(0)
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="silent-server", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.release()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()
        for conn in self.conns:
            conn.close()


class FreezingProxy:
    """Forwards 127.0.0.1:0 to a real server until `freeze()`; then nothing moves any more,
    on open connections and new ones alike (a server that stopped answering)."""

    def __init__(self, upstream: ConnParams) -> None:
        self.upstream = (upstream.host, upstream.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.frozen = threading.Event()
        self.stop = threading.Event()
        self.socks: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, name="proxy", daemon=True)
        self.thread.start()

    def freeze(self) -> None:
        self.frozen.set()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.socks.append(client)
            if self.frozen.is_set():
                continue
            server = socket.create_connection(self.upstream, timeout=5)
            self.socks.append(server)
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = src.recv(65536)
                if not data or self.frozen.is_set():
                    break
                dst.sendall(data)
        self.stop.wait()  # frozen: hold both ends open and silent until the test ends

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()
        for s in self.socks:
            s.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(engine: Engine | None = None, **env: str) -> App:
        config = load_config(
            {
                "SQLITE_PATH": str(tmp_path / "app" / "app.db"),
                "BACKUP_DIR": str(tmp_path / "backups"),
                **env,
            }
        )
        app = App.build(config, engine=engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with contextlib.suppress(Exception):  # a test may have stopped it already
            app.stop(timeout=5)


def target(name: str, host: str, port: int, dbname: str = "db", **kw: Any) -> dict[str, Any]:
    return {"name": name, "host": host, "port": port, "dbname": dbname, "user": "u", **kw}


def good_target(name: str, db: ConnParams) -> dict[str, Any]:
    return target(name, db.host, db.port, db.database, user=db.user, password=db.password)


def fill(db: ConnParams, tables: int = 4, rows: int = 200) -> None:
    conn = connect(db, autocommit=True)
    with conn.cursor() as cur:
        for t in range(tables):
            cur.execute(f"CREATE TABLE t{t} (id INT PRIMARY KEY, s VARCHAR(40))")
            cur.executemany(f"INSERT INTO t{t} VALUES (%s, %s)", [(i, "x") for i in range(rows)])
    conn.close()


def files(app: App) -> list[str]:
    folder = app.config.backup_dir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_backup_of_a_silent_port_fails_after_the_connect_timeout_saying_why(
    make_app: Callable[..., App], silent: SilentServer
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT="2")
    t = app.create_target(target("redis", "127.0.0.1", silent.port))
    began = time.monotonic()
    row = app.start_backup(t.id)
    done = app.wait_backup(row.id, timeout=30)
    took = time.monotonic() - began
    assert done.status == "failed"
    assert 1.5 < took < 10
    assert done.notes == (
        f"cannot connect to mysql://u@127.0.0.1:{silent.port}/db: the server accepted the "
        "connection but did not answer the MySQL handshake within 2 s (is this a MySQL port?)"
    )
    assert files(app) == []


def test_cancel_ends_a_backup_waiting_for_the_handshake_within_5_s(
    make_app: Callable[..., App], silent: SilentServer
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT=str(LONG))
    t = app.create_target(target("redis", "127.0.0.1", silent.port))
    row = app.start_backup(t.id)
    assert silent.accepted.acquire(timeout=10)
    began = time.monotonic()
    app.cancel_backup(row.id)
    done = app.wait_backup(row.id, timeout=30)
    assert time.monotonic() - began < 5
    assert done.status == "cancelled" and done.notes == "cancelled by the user"
    assert files(app) == []


def test_cancel_ends_a_queued_backup_within_5_s(
    make_app: Callable[..., App], silent: SilentServer, scratch_db: ConnParams
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT=str(LONG), MAX_PARALLEL_JOBS="1")
    stuck = app.start_backup(app.create_target(target("redis", "127.0.0.1", silent.port)).id)
    assert silent.accepted.acquire(timeout=10)
    queued = app.start_backup(app.create_target(good_target("good", scratch_db)).id)
    began = time.monotonic()
    app.cancel_backup(queued.id)
    done = app.wait_backup(queued.id, timeout=30)
    assert time.monotonic() - began < 5
    assert done.status == "cancelled" and done.notes == "cancelled by the user"
    assert app.get_backup(stuck.id).status == "running"  # the slot holder goes on
    app.cancel_backup(stuck.id)
    assert app.wait_backup(stuck.id, timeout=30).status == "cancelled"


def test_cancel_ends_a_restore_waiting_for_the_handshake_within_5_s(
    make_app: Callable[..., App], silent: SilentServer, scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=1, rows=10)
    app = make_app(DB_CONNECT_TIMEOUT=str(LONG))
    t = app.create_target(good_target("shop", scratch_db))
    backup = app.wait_backup(app.start_backup(t.id).id, timeout=60)
    assert backup.status == "success", backup.notes
    app.update_target(t.id, target("shop", "127.0.0.1", silent.port))  # a wrong port typed in
    restore = app.start_restore(backup.id, confirm="shop")
    assert silent.accepted.acquire(timeout=10)
    began = time.monotonic()
    app.cancel_restore(restore.id)
    done = app.wait_restore(restore.id, timeout=30)
    assert time.monotonic() - began < 5
    assert done.status == "cancelled"
    assert "cancelled by the user" in done.notes and "not changed" in done.notes


def test_two_silent_targets_hold_the_two_slots_no_longer_than_the_timeout(
    make_app: Callable[..., App], silent: SilentServer, scratch_db: ConnParams
) -> None:
    fill(scratch_db, tables=2, rows=20)
    app = make_app(DB_CONNECT_TIMEOUT="2", MAX_PARALLEL_JOBS="2")
    first = app.create_target(target("redis", "127.0.0.1", silent.port))
    second = app.create_target(target("postgres", "127.0.0.1", silent.port, dbname="other"))
    good = app.create_target(good_target("good", scratch_db))
    began = time.monotonic()
    rows = [app.start_backup(t.id) for t in (first, second, good)]
    done = app.wait_backup(rows[2].id, timeout=30)
    assert done.status == "success", done.notes
    assert time.monotonic() - began < 2 + 10
    assert [app.get_backup(r.id).status for r in rows[:2]] == ["failed", "failed"]


def test_stop_while_a_backup_waits_for_the_handshake_leaves_no_part_file(
    make_app: Callable[..., App], silent: SilentServer
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT=str(LONG))
    t = app.create_target(target("redis", "127.0.0.1", silent.port))
    row = app.start_backup(t.id)
    assert silent.accepted.acquire(timeout=10)
    began = time.monotonic()
    app.stop(timeout=0)
    assert time.monotonic() - began < 10
    assert files(app) == []
    deadline = time.monotonic() + 5  # the worker itself has ended too, not just its row
    while any(t.name.startswith("dumper-job") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a job thread is still running"
        time.sleep(0.05)
    store = Store(app.config.sqlite_path)
    try:
        got = store.get_backup(row.id)
        assert got is not None and got.status == "failed" and "shut down" in got.notes
    finally:
        store.close()


def test_connection_test_of_a_silent_port_answers_within_the_timeout(
    make_app: Callable[..., App], silent: SilentServer
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT="2")
    began = time.monotonic()
    report = app.test_connection(target("redis", "127.0.0.1", silent.port))
    assert time.monotonic() - began < 2 + 3
    assert not report.ok
    assert "did not answer the MySQL handshake within 2 s" in report.message
    saved = app.create_target(target("redis", "127.0.0.1", silent.port))
    began = time.monotonic()
    assert not app.test_connection(target_id=saved.id).ok
    assert time.monotonic() - began < 2 + 3


def test_jobs_connect_with_the_configured_timeouts(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    app = make_app(DB_CONNECT_TIMEOUT="7", DB_READ_TIMEOUT="45")
    t = app.create_target(good_target("shop", scratch_db))
    params = app.targets.conn_params(app.store.require_target(t.id))
    assert (params.connect_timeout, params.read_timeout) == (7, 45)


def test_a_query_may_run_longer_than_the_connect_timeout(mysql_params: ConnParams) -> None:
    conn = connect(mysql_params, connect_timeout=1, read_timeout=30)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT SLEEP(1.5)")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()


def test_cancel_ends_a_dump_whose_server_went_silent_within_5_s(
    make_app: Callable[..., App], scratch_db: ConnParams
) -> None:
    fill(scratch_db)
    proxy = FreezingProxy(scratch_db)
    real = Engine.default()
    frozen = threading.Event()

    def dump(*args: Any, progress: Any = None, **kw: Any) -> Any:
        def freeze_once(p: Any) -> None:
            progress(p)
            if not frozen.is_set():
                proxy.freeze()
                frozen.set()

        return real.dump(*args, progress=freeze_once, **kw)

    try:
        app = make_app(engine=Engine(dump=dump, restore=real.restore, verify=real.verify))
        t = app.create_target(good_target("shop", scratch_db) | {"port": proxy.port})
        row = app.start_backup(t.id)
        assert frozen.wait(30)
        time.sleep(0.3)  # let the dump block on its next read
        began = time.monotonic()
        app.cancel_backup(row.id)
        done = app.wait_backup(row.id, timeout=30)
        assert time.monotonic() - began < 5
        assert done.status == "cancelled" and done.notes == "cancelled by the user"
        assert files(app) == []
    finally:
        proxy.close()
