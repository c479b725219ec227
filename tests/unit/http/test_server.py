"""The real ThreadingHTTPServer on a free port: body limits, streaming, Range, HEAD, logs."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from dumper.app import App
from dumper.errors import NotFound
from dumper.http.auth import BasicAuth
from dumper.http.dispatch import Dispatcher
from dumper.http.files import file_response
from dumper.http.router import Request, Response, Router, json_response, parse_json_object
from dumper.http.server import DumperHTTPServer, build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import make_config

MAX_BODY = 4096
AUTH = "Basic " + base64.b64encode(b"admin:pw").decode()


class _Files:
    def __init__(self) -> None:
        self.files: dict[int, Path] = {}

    def download(self, request: Request) -> Response:
        path = self.files.get(request.int_param("id"))
        if path is None or not path.exists():
            raise NotFound("no such backup")
        return file_response(path, request, attachment=True)


@pytest.fixture
def files() -> _Files:
    return _Files()


@pytest.fixture
def server(files: _Files) -> Iterator[DumperHTTPServer]:
    r = Router()
    r.add(
        "POST",
        "/api/echo",
        lambda req: json_response(200, parse_json_object(req, MAX_BODY)),
        "e",
        request_schema="Echo",  # a route reads a body only when it declares one
    )
    r.add("GET", "/api/backups/:id/download", files.download, "download")
    r.add("GET", "/api/stream", lambda req: Response(200, {}, iter([b"ab", b"", b"cd"])), "s")
    srv = make_server(Dispatcher(r, auth=BasicAuth("admin", "pw")), "127.0.0.1", 0, MAX_BODY)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(srv, stop), daemon=True)
    thread.start()
    yield srv
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def _conn(server: DumperHTTPServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)


def _request(
    server: DumperHTTPServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = _conn(server)
    conn.request(method, path, body=body, headers={"Authorization": AUTH, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_json_round_trip_over_a_real_socket(server: DumperHTTPServer) -> None:
    resp, data = _request(
        server, "POST", "/api/echo", b'{"name": "shop"}', {"Content-Type": "application/json"}
    )
    assert resp.status == 200
    assert json.loads(data) == {"name": "shop"}
    assert resp.getheader("X-Frame-Options") == "DENY"


def test_body_over_the_limit_is_413_without_reading_it(server: DumperHTTPServer) -> None:
    conn = _conn(server)
    # Announce a huge body but send only a little: the server must answer without waiting for it.
    conn.putrequest("POST", "/api/echo")
    conn.putheader("Authorization", AUTH)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50 * 1024 * 1024))
    conn.endheaders(b'{"a":')
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["error"]["code"] == "payload_too_large"
    assert resp.getheader("Connection") == "close"
    conn.close()


def test_malformed_json_and_wrong_type_are_400(server: DumperHTTPServer) -> None:
    resp, data = _request(
        server, "POST", "/api/echo", b"{oops", {"Content-Type": "application/json"}
    )
    assert resp.status == 400 and json.loads(data)["error"]["code"] == "bad_request"
    resp, data = _request(server, "POST", "/api/echo", b"name=x", {"Content-Type": "text/plain"})
    assert resp.status == 400


def test_keep_alive_serves_several_requests_on_one_connection(server: DumperHTTPServer) -> None:
    conn = _conn(server)
    for i in range(3):
        conn.request(
            "POST",
            "/api/echo",
            body=json.dumps({"i": i}).encode(),
            headers={"Authorization": AUTH, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        assert json.loads(resp.read()) == {"i": i}
    conn.close()


def test_iterator_bodies_are_sent_chunked(server: DumperHTTPServer) -> None:
    resp, data = _request(server, "GET", "/api/stream")
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert data == b"abcd"


def test_unknown_api_path_and_wrong_method_over_the_socket(server: DumperHTTPServer) -> None:
    resp, data = _request(server, "GET", "/api/nope")
    assert resp.status == 404 and json.loads(data)["error"]["code"] == "not_found"
    resp, data = _request(server, "DELETE", "/api/echo")
    assert resp.status == 405 and resp.getheader("Allow") == "POST"


def test_request_log_has_no_secrets(
    server: DumperHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dumper")
    _request(
        server,
        "POST",
        "/api/echo?token=abc",
        b'{"password": "hunter2"}',
        {"Content-Type": "application/json"},
    )
    # The server logs after the response is sent: give its thread a moment.
    deadline = time.monotonic() + 5
    while not (lines := [r.getMessage() for r in caplog.records if "/api/echo" in r.getMessage()]):
        assert time.monotonic() < deadline, "no request log line"
        time.sleep(0.01)
    line = lines[0]
    assert '"POST /api/echo" 200' in line
    text = caplog.text
    assert "hunter2" not in text and AUTH.split()[1] not in text and "token=abc" not in text


@pytest.fixture
def payload(tmp_path: Path, files: _Files) -> bytes:
    data = bytes(range(256)) * 1000
    path = tmp_path / "shop_2026-11-26_03-00-00.sql.gz"
    path.write_bytes(data)
    files.files[1] = path
    return data


def test_download_is_an_attachment_with_length_and_type(
    server: DumperHTTPServer, payload: bytes
) -> None:
    resp, data = _request(server, "GET", "/api/backups/1/download")
    assert resp.status == 200 and data == payload
    assert resp.getheader("Content-Length") == str(len(payload))
    assert resp.getheader("Content-Type") == "application/gzip"
    assert resp.getheader("Accept-Ranges") == "bytes"
    disposition = resp.getheader("Content-Disposition") or ""
    assert disposition.startswith('attachment; filename="shop_2026-11-26_03-00-00.sql.gz"')


def test_download_head_has_headers_but_no_body(server: DumperHTTPServer, payload: bytes) -> None:
    resp, data = _request(server, "HEAD", "/api/backups/1/download")
    assert resp.status == 200 and data == b""
    assert resp.getheader("Content-Length") == str(len(payload))


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, None),
        ("bytes=-10", -10, None),
        ("bytes=255990-999999999", 255990, None),
    ],
)
def test_download_range_is_206_with_exactly_those_bytes(
    server: DumperHTTPServer, payload: bytes, header: str, first: int, last: int | None
) -> None:
    resp, data = _request(server, "GET", "/api/backups/1/download", headers={"Range": header})
    expected = payload[first:] if last is None else payload[first : last + 1]
    assert resp.status == 206
    assert data == expected
    assert resp.getheader("Content-Length") == str(len(expected))
    start = first % len(payload)
    assert (
        resp.getheader("Content-Range")
        == f"bytes {start}-{start + len(expected) - 1}/{len(payload)}"
    )


def test_download_unsatisfiable_range_is_416(server: DumperHTTPServer, payload: bytes) -> None:
    resp, data = _request(
        server, "GET", "/api/backups/1/download", headers={"Range": "bytes=999999-"}
    )
    assert resp.status == 416
    assert json.loads(data)["error"]["code"] == "range_not_satisfiable"
    assert resp.getheader("Content-Range") == f"bytes */{len(payload)}"


def test_download_of_a_gone_file_is_404(
    server: DumperHTTPServer, payload: bytes, files: _Files
) -> None:
    files.files[1].unlink()
    resp, data = _request(server, "GET", "/api/backups/1/download")
    assert resp.status == 404 and json.loads(data)["error"]["code"] == "not_found"


def test_download_name_with_unicode_gets_an_rfc6266_filename(
    server: DumperHTTPServer, tmp_path: Path, files: _Files
) -> None:
    path = tmp_path / 'bäckerei "x".sql'
    path.write_bytes(b"-- x\n")
    files.files[2] = path
    resp, _ = _request(server, "GET", "/api/backups/2/download")
    disposition = resp.getheader("Content-Disposition") or ""
    assert "filename*=UTF-8''" + quote(path.name, safe="") in disposition
    assert resp.getheader("Content-Type") == "application/sql"


def test_download_streams_a_large_file_without_memory_growing(
    server: DumperHTTPServer, tmp_path: Path, files: _Files
) -> None:
    size = 256 * 1024 * 1024
    path = tmp_path / "big.sql.gz"
    with path.open("wb") as fh:
        fh.truncate(size)  # sparse: no disk used, but the server must still send every byte
    files.files[3] = path
    tracemalloc.start()
    try:
        conn = _conn(server)
        conn.request("GET", "/api/backups/3/download", headers={"Authorization": AUTH})
        resp = conn.getresponse()
        received = 0
        while chunk := resp.read(1024 * 1024):
            received += len(chunk)
        conn.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    # Client and server share this process: both read in chunks, so the peak stays tiny
    # compared with the file (reading it whole would allocate 256 MiB at once).
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_concurrent_clients_against_the_real_app_all_get_answers(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    app = App.build(config)
    app.start()
    srv = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(srv, stop), daemon=True)
    thread.start()
    codes: Counter[int] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = _conn(srv)
        for i in range(30):
            if i % 3 == 0:
                body = {"name": f"t{n}-{i}", "host": "h", "port": 1, "dbname": "d", "user": "u"}
                conn.request(
                    "POST",
                    "/api/targets",
                    body=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )
            else:
                conn.request("GET", "/api/targets" if i % 3 == 1 else "/api/settings")
            resp = conn.getresponse()
            resp.read()
            with lock:
                codes[resp.status] += 1
        conn.close()

    try:
        clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(60)
    finally:
        stop.set()
        thread.join(10)
        app.stop(timeout=2)
    assert codes == {201: 60, 200: 120}
