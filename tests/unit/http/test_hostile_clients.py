"""Hostile clients against the real server on a free port: framing tricks, stalled crowds, and a
property-based fuzzer that must never see a 5xx or a hung connection."""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dumper.app import App
from dumper.http.server import DumperHTTPServer, build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import make_config

AUTH = "Basic " + base64.b64encode(b"admin:right").decode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DumperHTTPServer]:
    tmp = tmp_path_factory.mktemp("hostile")
    config = make_config(tmp, admin_user="admin", admin_pass="right", max_body_bytes=1024 * 1024)
    app = App.build(config)
    app.start()
    server = make_server(
        build_dispatcher(app, config),
        "127.0.0.1",
        0,
        config.max_body_bytes,
        max_connections=16,
        timeout=3,
    )
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(10)
    app.stop(timeout=5)


def _raw(server: DumperHTTPServer, data: bytes, *, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes or `timeout`; the whole answer."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
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


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "length_headers",
    [
        b"Content-Length: 2\r\nContent-Length: 40\r\n",
        b"Content-Length: +0\r\n",
        b"Content-Length: 0_0\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 1e3\r\n",
        b"Content-Length: " + b"9" * 40 + b"\r\n",
    ],
)
def test_ambiguous_content_length_is_400_and_nothing_is_smuggled(
    live: DumperHTTPServer, length_headers: bytes
) -> None:
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    request = (
        b"POST /api/targets HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() + b"\r\n"
        b"Content-Type: application/json\r\n" + length_headers + b"\r\n{}" + smuggled
    )
    answer = _raw(live, request)
    assert _status(answer) == 400
    assert b'"bad_request"' in answer
    # the rest was not parsed as a second request
    assert answer.count(b"HTTP/1.1 ") == 1


def test_the_body_is_not_read_before_authentication(live: DumperHTTPServer) -> None:
    # 500 KB declared, only headers sent: the 401 comes at once, without waiting for the body
    with socket.create_connection(("127.0.0.1", live.server_address[1]), timeout=5) as s:
        s.sendall(
            b"POST /api/targets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500000\r\n\r\n"
        )
        started = time.monotonic()
        answer = s.recv(65536)
        assert time.monotonic() - started < 2
    assert _status(answer) == 401


def test_a_bodiless_route_never_reads_a_big_body(live: DumperHTTPServer) -> None:
    with socket.create_connection(("127.0.0.1", live.server_address[1]), timeout=5) as s:
        s.sendall(
            b"POST /api/targets/999/backup HTTP/1.1\r\nHost: x\r\nAuthorization: "
            + AUTH.encode()
            + b"\r\nContent-Length: 900000\r\n\r\n"
        )
        answer = s.recv(65536)
    assert _status(answer) == 404
    assert b"Connection: close" in answer


def test_a_small_unread_body_keeps_the_connection_usable(live: DumperHTTPServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", live.server_address[1], timeout=5)
    conn.request("POST", "/api/targets/999/backup", body=b"{}", headers={"Authorization": AUTH})
    first = conn.getresponse()
    first.read()
    conn.request("GET", "/healthz")
    second = conn.getresponse()
    assert (first.status, second.status) == (404, 200)
    conn.close()


def test_a_client_that_stalls_in_its_headers_is_cut_off(live: DumperHTTPServer) -> None:
    with socket.create_connection(("127.0.0.1", live.server_address[1]), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        assert s.recv(100) == b""  # closed by the server's deadline (3 s here)
        assert time.monotonic() - started < 6


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _healthz_seconds(
    server: DumperHTTPServer, headers: dict[str, str] | None = None, path: str = "/healthz"
) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    conn.request("GET", path, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status, time.monotonic() - started


def test_a_hundred_stalled_unauthenticated_uploads_cost_little_and_block_nobody(
    live: DumperHTTPServer,
) -> None:
    before = _rss_bytes()
    port = live.server_address[1]
    socks = []
    body = b"x" * 900_000
    try:
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setblocking(False)
            s.send(
                b"POST /api/targets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000\r\n\r\n"
            )
            with contextlib.suppress(BlockingIOError, ConnectionResetError, BrokenPipeError):
                s.send(body)  # most of 1 MB, as far as the buffers take it, then silence
            socks.append(s)
        time.sleep(1)
        grown = _rss_bytes() - before
        status, seconds = _healthz_seconds(live)
        assert (status, seconds < 1) == (200, True)
        status, seconds = _healthz_seconds(live, {"Authorization": AUTH}, "/api/targets")
        assert (status, seconds < 1) == (200, True)
        assert grown < 30 * 1024 * 1024, f"memory grew by {grown / 1e6:.1f} MB"
    finally:
        for s in socks:
            s.close()


def test_a_crowd_stalling_in_headers_does_not_keep_out_the_health_probe(
    live: DumperHTTPServer,
) -> None:
    port = live.server_address[1]
    socks = []
    try:
        for _ in range(40):  # more than MAX_CONNECTIONS (16 here)
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        time.sleep(0.5)
        assert live.open_connections() <= 16
        status, seconds = _healthz_seconds(live)
        assert status == 200 and seconds < 1
    finally:
        for s in socks:
            s.close()


# --- the fuzzer ------------------------------------------------------------------------------

_TOKEN = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=12,
)
_METHODS = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]
) | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_-", min_size=1, max_size=10)
_SEGMENTS = st.sampled_from(
    [
        "api",
        "targets",
        "backups",
        "restores",
        "1",
        "0",
        "999999999999999999999",
        "test",
        "backup",
        "restore",
        "cancel",
        "download",
        "metrics",
        "healthz",
        "readyz",
        "settings",
        "jobs",
        "openapi.json",
        "assets",
        "..",
        "%2e%2e",
        "%00",
        "%0a",
        "%0d%0a",
        "%ff",
        "%ed%a0%80",
        "a" * 300,
        "index.html",
        "%25",
        "?x=1",
        "#f",
    ]
)
_PATHS = st.lists(_SEGMENTS, min_size=0, max_size=6).map(lambda s: "/" + "/".join(s))
_HEADER_NAMES = (
    st.sampled_from(
        [
            "Content-Type",
            "Authorization",
            "Range",
            "Origin",
            "Sec-Fetch-Site",
            "Host",
            "X-Forwarded-For",
            "X-Requested-With",
            "If-None-Match",
            "Expect",
            "Accept",
        ]
    )
    | _TOKEN
)
_HEADER_VALUES = st.sampled_from(
    [
        "application/json",
        "text/plain",
        AUTH,
        "Basic !!!",
        "Bearer x",
        "bytes=0-1",
        "bytes=" + "9" * 5000 + "-",
        "bytes=-0",
        "https://evil.example",
        "null",
        "cross-site",
        "same-origin",
        "",
        "100-continue",
        "*",
        "\u00e9",
    ]
) | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_BODIES = st.sampled_from(
    [
        b"",
        b"{}",
        b"[]",
        b'{"name": "\\ud800"}',
        b"[" * 5000,
        b"null",
        b'{"confirm": 1}',
        b'{"name":"a","host":"127.0.0.1","port":1,"dbname":"d","user":"u","password":"p"}',
    ]
) | st.binary(max_size=200)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# the cases that gave a 500 before, always among the examples
@example(method="GET", path="/" + "a" * 300, headers=[], body=b"")
@example(method="POST", path="/api/targets/test", headers=[], body=b'{"host": "\\ud800"}')
@example(
    method="GET",
    path="/api/backups/1/download",
    headers=[("Range", "bytes=" + "9" * 5000 + "-")],
    body=b"",
)
@given(
    method=_METHODS,
    path=_PATHS,
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=5),
    body=_BODIES,
)
def test_random_requests_never_get_a_5xx_or_hang(
    live: DumperHTTPServer,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
    answer = _raw(live, raw, timeout=10)
    assert answer.startswith(b"HTTP/1."), (raw[:200], answer[:200])
    assert 100 <= _status(answer) < 500, (raw[:300], answer[:300])
