"""Uploads through the real server on a free port: the body streamed to a .part, verified as a
whole, then a backup row; over the limit, cut short, stalled or broken: nothing kept. Adoption of
a file found in BACKUP_DIR. No database server: verification needs none."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import stat
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.http.server import DumperHTTPServer, build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import Api, make_config, target_body

FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "foreign"
AUTH = "Basic " + base64.b64encode(b"admin:right").decode()
LIMIT = 256 * 1024


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[DumperHTTPServer, App]]:
    config = make_config(
        tmp_path, admin_user="admin", admin_pass="right", upload_max_bytes=LIMIT, http_timeout=1
    )
    app = App.build(config)
    app.start()
    server = make_server(
        build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes, timeout=1
    )
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    yield server, app
    stop.set()
    thread.join(10)
    app.stop(timeout=5)


def _target(app: App) -> int:
    return int(app.create_target(target_body()).id)


def _post(server: DumperHTTPServer, path: str, body: bytes, **headers: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Authorization": AUTH, **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _folder(app: App) -> list[str]:
    return sorted(p.name for p in app.folder.path.iterdir())


def test_an_upload_becomes_a_verified_backup_with_its_own_name_and_a_private_file(
    live: tuple[DumperHTTPServer, App],
) -> None:
    server, app = live
    tid = _target(app)
    data = (FOREIGN / "phpmyadmin.sql.gz").read_bytes()
    status, body = _post(server, f"/api/targets/{tid}/uploads?filename=shop.sql.gz", data)
    assert status == 201, body
    assert body["trigger"] == "upload" and body["status"] == "success"
    assert body["file_name"] == "shop.sql.gz" and body["size_bytes"] == len(data)
    assert "phpmyadmin" in body["notes"] and "gzip checksums" in body["notes"]
    path = app.folder.path / "shop.sql.gz"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _folder(app) == ["shop.sql.gz"]
    # the same name again gets a free one; the listing shows both
    status, again = _post(server, f"/api/targets/{tid}/uploads?filename=shop.sql.gz", data)
    assert status == 201 and again["file_name"] == "shop_2.sql.gz"
    assert [b.trigger for b in app.list_backups(tid)] == ["upload", "upload"]


def test_a_client_name_loses_its_folders_and_needs_a_dump_extension(
    live: tuple[DumperHTTPServer, App],
) -> None:
    server, app = live
    tid = _target(app)
    data = (FOREIGN / "adminer.sql").read_bytes()
    status, body = _post(server, f"/api/targets/{tid}/uploads?filename=../../etc/x.sql", data)
    assert status == 201 and body["file_name"] == "x.sql"
    status, body = _post(server, f"/api/targets/{tid}/uploads?filename=notes.txt", data)
    assert status == 422 and "filename" in body["error"]["fields"]
    assert _folder(app) == ["x.sql"]


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("cut.sql.gz", (FOREIGN / "adminer.sql.gz").read_bytes()[:-20], "truncated"),
        ("junk.sql", b"\x00\x01 not sql at all", "incomplete"),
        ("cut.sql", (FOREIGN / "mariadb_skip_comments.sql").read_bytes()[:900], "incomplete"),
        ("plain.sql.gz", (FOREIGN / "adminer.sql").read_bytes(), "is plain data"),
        ("empty.sql", b"", "empty"),
    ],
)
def test_a_file_that_fails_verification_is_422_and_nothing_is_kept(
    live: tuple[DumperHTTPServer, App], name: str, data: bytes, why: str
) -> None:
    server, app = live
    tid = _target(app)
    status, body = _post(server, f"/api/targets/{tid}/uploads?filename={name}", data)
    assert status == 422, body
    assert body["error"]["code"] == "backup_corrupt"
    assert why in body["error"]["message"]
    assert _folder(app) == [] and app.list_backups(tid) == []


def _raw_start(server: DumperHTTPServer, path: str, length: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
    s.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    return s


def _answer(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_over_the_limit_is_413_before_a_byte_is_read(live: tuple[DumperHTTPServer, App]) -> None:
    server, app = live
    tid = _target(app)
    with _raw_start(server, f"/api/targets/{tid}/uploads?filename=big.sql", LIMIT + 1) as s:
        started = time.monotonic()
        answer = _answer(s)  # and the connection closes: the body is never read
        assert time.monotonic() - started < 0.9  # not after a read deadline
    assert answer.startswith(b"HTTP/1.1 413") and b"UPLOAD_MAX_BYTES" in answer
    assert _folder(app) == []


def test_without_content_length_411_and_chunked_400(live: tuple[DumperHTTPServer, App]) -> None:
    server, app = live
    tid = _target(app)
    path = f"/api/targets/{tid}/uploads?filename=a.sql"
    for framing, want in ((b"", b"411"), (b"Transfer-Encoding: chunked\r\n", b"400")):
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as s:
            s.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n".encode()
                + framing
                + b"\r\n"
            )
            assert s.recv(65536).startswith(b"HTTP/1.1 " + want)
    assert _folder(app) == []


def test_a_client_that_goes_away_mid_upload_leaves_nothing(
    live: tuple[DumperHTTPServer, App],
) -> None:
    server, app = live
    tid = _target(app)
    data = (FOREIGN / "adminer.sql").read_bytes()
    s = _raw_start(server, f"/api/targets/{tid}/uploads?filename=gone.sql", len(data) + 5000)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    answer = _answer(s)
    s.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
    _wait_empty(app)
    assert app.list_backups(tid) == []


def test_a_stalled_upload_is_cut_and_its_part_removed(live: tuple[DumperHTTPServer, App]) -> None:
    server, app = live
    tid = _target(app)
    s = _raw_start(server, f"/api/targets/{tid}/uploads?filename=slow.sql", 100_000)
    s.sendall(b"-- a start, then nothing")
    time.sleep(0.3)
    assert [p.suffix for p in app.folder.path.iterdir()] == [".part"]  # streamed to a .part
    started = time.monotonic()
    answer = _answer(s)  # the server cuts it after HTTP_TIMEOUT (1 s) without progress
    s.close()
    assert time.monotonic() - started < 5
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
    _wait_empty(app)


def test_a_slow_upload_that_keeps_a_minimum_rate_gets_through(
    live: tuple[DumperHTTPServer, App],
) -> None:
    server, app = live
    tid = _target(app)
    row = b"INSERT INTO t VALUES ('" + b"x" * 1000 + b"');\n"
    data = b"CREATE TABLE t (a TEXT);\n" + row * 200  # 200 KB: more than three 64 KiB pieces
    s = _raw_start(server, f"/api/targets/{tid}/uploads?filename=slow.sql", len(data))
    # longer in total than HTTP_TIMEOUT (1 s), but each 64 KiB within it (25 KB per 0.2 s)
    for at in range(0, len(data), 25_000):
        s.sendall(data[at : at + 25_000])
        time.sleep(0.2)
    answer = s.recv(65536)
    s.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]


def _wait_empty(app: App) -> None:
    deadline = time.monotonic() + 5
    while _folder(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _folder(app) == []


# --- adoption (in-process) ----------------------------------------------------------------


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[tuple[Api, App]]:
    config = make_config(tmp_path)
    app = App.build(config)
    app.start()
    yield Api(build_dispatcher(app, config)), app
    app.stop(timeout=5)


def test_a_found_file_is_adopted_in_place_without_a_copy(api_app: tuple[Api, App]) -> None:
    api, app = api_app
    tid = _target(app)
    found = app.folder.path / "old.sql.gz"
    found.write_bytes((FOREIGN / "adminer.sql.gz").read_bytes())
    found.chmod(0o644)
    inode = found.stat().st_ino
    assert [f.name for f in app.settings().unknown_files] == ["old.sql.gz"]
    status, _, body = api(
        "POST", "/api/backups/adopt", {"filename": "old.sql.gz", "target_id": tid}
    )
    assert status == 201, body
    assert body["trigger"] == "upload" and body["file_name"] == "old.sql.gz"
    assert body["target_id"] == tid and body["sha256"]
    assert found.stat().st_ino == inode and stat.S_IMODE(found.stat().st_mode) == 0o600
    assert _folder(app) == ["old.sql.gz"] and app.settings().unknown_files == []
    # once adopted it is no longer unknown
    status, _, body = api(
        "POST", "/api/backups/adopt", {"filename": "old.sql.gz", "target_id": tid}
    )
    assert status == 404


def test_adoption_refuses_a_broken_file_and_names_outside_the_list(
    api_app: tuple[Api, App],
) -> None:
    api, app = api_app
    tid = _target(app)
    (app.folder.path / "cut.sql.gz").write_bytes((FOREIGN / "adminer.sql.gz").read_bytes()[:-30])
    status, _, body = api(
        "POST", "/api/backups/adopt", {"filename": "cut.sql.gz", "target_id": tid}
    )
    assert status == 422 and body["error"]["code"] == "backup_corrupt"
    assert (app.folder.path / "cut.sql.gz").exists()  # a found file is never deleted
    (app.folder.path / "half.sql.part").write_bytes(b"CREATE TABLE t (a INT);\n")
    status, _, body = api(
        "POST", "/api/backups/adopt", {"filename": "half.sql.part", "target_id": tid}
    )
    assert status == 422 and body["error"]["fields"] == {"filename": "is being written"}
    for name in ("../app/app.db", "nothing.sql"):
        status, _, body = api("POST", "/api/backups/adopt", {"filename": name, "target_id": tid})
        assert status == 404, body
    status, _, body = api(
        "POST", "/api/backups/adopt", {"filename": "cut.sql.gz", "target_id": 999}
    )
    assert status == 404
    status, _, body = api("POST", "/api/backups/adopt", {"filename": "cut.sql.gz"})
    assert status == 422 and body["error"]["fields"] == {"target_id": "is required"}
    assert app.list_backups(tid) == []


def test_an_upload_keeps_memory_flat(live: tuple[DumperHTTPServer, App]) -> None:
    server, app = live
    tid = _target(app)
    row = b"INSERT INTO t VALUES ('" + b"y" * 1000 + b"');\n"
    piece = row * 64  # 64 KB
    pieces = 3000  # 192 MB, far above what may sit in memory
    size = len(b"CREATE TABLE t (a TEXT);\n") + len(piece) * pieces
    route = next(r for r in server.dispatcher.router if r.pattern.endswith("/uploads"))
    object.__setattr__(route, "stream_limit", size)
    tracemalloc.start()
    try:
        with _raw_start(server, f"/api/targets/{tid}/uploads?filename=big.sql", size) as s:
            s.settimeout(60)
            s.sendall(b"CREATE TABLE t (a TEXT);\n")
            for _ in range(pieces):
                s.sendall(piece)
            answer = _answer(s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert (app.folder.path / "big.sql").stat().st_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte upload"


def test_an_upload_is_refused_before_its_body_without_credentials_or_from_another_site(
    live: tuple[DumperHTTPServer, App],
) -> None:
    server, app = live
    tid = _target(app)
    path = f"/api/targets/{tid}/uploads?filename=a.sql"
    for extra, want in (
        (f"Authorization: {AUTH}\r\nSec-Fetch-Site: cross-site\r\n", b"403"),
        ("", b"401"),
    ):
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as s:
            # 200 KB declared, none sent: the answer comes at once, the body is never waited for
            s.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: 200000\r\n\r\n".encode()
            )
            started = time.monotonic()
            assert _answer(s).startswith(b"HTTP/1.1 " + want)
            assert time.monotonic() - started < 0.9
    assert _folder(app) == []


def test_what_an_interrupted_upload_left_is_removed_at_the_next_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.backup_dir.mkdir(parents=True)
    for name in ("cut.sql.upload.part", "whole.sql.gz.upload", "mine.sql", "dump.sql.gz.part"):
        (config.backup_dir / name).write_bytes(b"x")
    app = App.build(config)
    app.start()
    try:
        # the upload's leftovers go; a file of the user's and a dump's .part (no row) stay
        assert sorted(_folder(app)) == ["dump.sql.gz.part", "mine.sql"]
    finally:
        app.stop(timeout=5)


def test_a_full_disk_is_507_storage_full_and_nothing_is_kept(tmp_path: Path) -> None:
    import subprocess

    backups = tmp_path / "backups"
    backups.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=128k,mode=0700", "tmpfs", str(backups)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("needs a tiny filesystem of its own (mount -t tmpfs: root)")
    try:
        config = make_config(
            tmp_path, admin_user="admin", admin_pass="right", upload_max_bytes=1 << 20
        )
        app = App.build(config)
        app.start()
        server = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
        stop = threading.Event()
        thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
        thread.start()
        try:
            tid = _target(app)
            # a little more than the 128 KiB the disk holds: what is left unread is drained
            status, body = _post(
                server, f"/api/targets/{tid}/uploads?filename=big.sql", b"-" * 160_000
            )
            assert status == 507, body
            assert body["error"]["code"] == "storage_full"
            assert "no room left in the backup folder for big.sql" in body["error"]["message"]
            assert _folder(app) == [] and app.list_backups(tid) == []
        finally:
            stop.set()
            thread.join(10)
            app.stop(timeout=5)
    finally:
        subprocess.run(["umount", str(backups)], check=True)
