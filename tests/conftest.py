"""Shared fixtures: a real MariaDB/MySQL (DUMPER_TEST_DSN), scratch databases, private servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams, connect, parse_dsn
from dumper.backup.tls import TlsSettings

DEFAULT_TEST_DSN = "mysql://root@127.0.0.1:3306/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Call it to set the process umask; the old one comes back after the test."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.fixture(scope="session")
def mysql_params() -> ConnParams:
    """The test server (env DUMPER_TEST_DSN, default the local MariaDB as root)."""
    return parse_dsn(
        os.environ.get("DUMPER_TEST_DSN", DEFAULT_TEST_DSN),
        env_password=os.environ.get("MYSQL_PWD"),
    )


def admin_exec(params: ConnParams, *statements: str) -> None:
    conn = connect(params.with_database(""), autocommit=True)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def _new_db(params: ConnParams, prefix: str = "dumper_t") -> ConnParams:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_exec(params, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return params.with_database(name)


@pytest.fixture
def scratch_db(mysql_params: ConnParams) -> Iterator[ConnParams]:
    """A fresh empty database on the test server, dropped afterwards."""
    db = _new_db(mysql_params)
    try:
        yield db
    finally:
        admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


@pytest.fixture
def scratch_db_factory(mysql_params: ConnParams) -> Iterator[object]:
    """Call it to get more fresh databases; all are dropped afterwards."""
    made: list[ConnParams] = []

    def make() -> ConnParams:
        db = _new_db(mysql_params)
        made.append(db)
        return db

    try:
        yield make
    finally:
        for db in made:
            admin_exec(mysql_params, f"DROP DATABASE IF EXISTS `{db.database}`")


class PrivateServer:
    """A mariadbd process of our own, in a temporary datadir, that a test may kill.

    `options` are extra server options (e.g. --ssl-cert=...); `tls` is how its own `params`
    connect (a server with require_secure_transport needs TLS).
    """

    def __init__(
        self, base: Path, options: tuple[str, ...] = (), tls: TlsSettings | None = None
    ) -> None:
        self.base = base
        self.options = options
        self.tls = tls or TlsSettings()
        self.datadir = base / "data"
        self.socket = base / "mysqld.sock"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def params(self) -> ConnParams:
        return ConnParams(
            host="127.0.0.1",
            port=self.port,
            user="root",
            password="",
            database="test",
            tls=self.tls,
        )

    def start(self) -> None:
        if not self.datadir.exists():
            subprocess.run(
                [
                    shutil.which("mariadb-install-db") or "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--user=root" if os.geteuid() == 0 else f"--user={os.getlogin()}",
                ],
                check=True,
                capture_output=True,
            )
        cmd = [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.base / 'mysqld.pid'}",
            f"--log-error={self.base / 'error.log'}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            *self.options,
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.base / "error.log").read_text(errors="replace")[-2000:])
            try:
                conn = connect(self.params.with_database(""), connect_timeout=1, autocommit=True)
            except Exception:
                time.sleep(0.2)
                continue
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE IF NOT EXISTS test")
            conn.close()
            return
        raise RuntimeError("private mariadbd did not start in 60 s")

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _skip_without_mariadbd() -> None:
    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        pytest.skip("mariadbd is not installed")
    if not shutil.which("mariadb-install-db"):
        pytest.skip("mariadb-install-db is not installed")


@pytest.fixture
def private_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateServer]:
    """A private mariadbd (skipped where none is installed, e.g. the MySQL CI matrix)."""
    _skip_without_mariadbd()
    server = PrivateServer(tmp_path_factory.mktemp("mariadbd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def private_mariadb_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., PrivateServer]]:
    """Call it with PrivateServer's options/tls to start a private mariadbd; all are stopped
    after the module (skipped where mariadbd is not installed)."""
    _skip_without_mariadbd()
    servers: list[PrivateServer] = []

    def make(options: tuple[str, ...] = (), tls: TlsSettings | None = None) -> PrivateServer:
        server = PrivateServer(tmp_path_factory.mktemp("mariadbd"), options, tls)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
