"""API tokens: created once (the secret shown only then), stored as a hash, scoped read or full,
revocable; Bearer works wherever Basic-Auth does, through the real server too."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.config import Config
from dumper.http.server import DumperHTTPServer, build_dispatcher, make_server, serve_until
from tests.unit.http.test_handlers import Api, make_config, target_body

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BASIC = ("admin", "right")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW, advance_on_sleep=False)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, admin_user="admin", admin_pass="right")


@pytest.fixture
def app(config: Config, clock: FakeClock) -> Iterator[App]:
    application = App.build(config, clock=clock)
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, config: Config) -> Api:
    return Api(build_dispatcher(app, config), auth=BASIC)


def bearer(app: App, config: Config, token: str) -> Callable[..., tuple[int, dict[str, str], Any]]:
    api = Api(build_dispatcher(app, config))

    def call(method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        return api(method, path, body, headers={"Authorization": f"Bearer {token}"})

    return call


def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(api: Api, app: App) -> None:
    status, _, body = api("POST", "/api/tokens", {"name": "grafana", "scope": "read"})
    assert status == 201
    token = body["token"]
    assert token.startswith("dmp_") and len(token) > 40
    assert body["name"] == "grafana" and body["scope"] == "read"
    assert body["created_at"] == "2026-11-26T12:00:00Z" and body["last_used_at"] is None
    assert body["hint"] == token[:8]
    listed = api("GET", "/api/tokens")[2]
    assert listed == [{k: v for k, v in body.items() if k != "token"}]
    rows = app.store.query("SELECT * FROM api_tokens")
    stored = " ".join(str(v) for v in rows[0])
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_token_input_is_validated(api: Api) -> None:
    status, _, body = api("POST", "/api/tokens", {"name": "", "scope": "admin", "x": 1})
    assert status == 422
    assert set(body["error"]["fields"]) == {"name", "scope", "x"}
    assert api("POST", "/api/tokens", {"name": "a", "scope": "read"})[0] == 201
    status, _, body = api("POST", "/api/tokens", {"name": "a", "scope": "full"})
    assert status == 409 and body["error"]["fields"] == {"name": "already taken"}


def test_a_read_token_reads_but_every_change_is_403(
    api: Api, app: App, config: Config, clock: FakeClock
) -> None:
    token = api("POST", "/api/tokens", {"name": "ro", "scope": "read"})[2]["token"]
    ro = bearer(app, config, token)
    clock.advance(timedelta(minutes=5))
    assert ro("GET", "/api/targets")[0] == 200
    status, _, body = ro("POST", "/api/targets", target_body())
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert "read" in body["error"]["message"]
    assert ro("DELETE", "/api/tokens/1")[0] == 403
    assert api("GET", "/api/targets")[2] == []  # nothing was created
    assert api("GET", "/api/tokens")[2][0]["last_used_at"] == "2026-11-26T12:05:00Z"


def test_a_full_token_may_change_things_until_it_is_revoked(
    api: Api, app: App, config: Config
) -> None:
    created = api("POST", "/api/tokens", {"name": "ci", "scope": "full"})[2]
    full = bearer(app, config, created["token"])
    assert full("POST", "/api/targets", target_body())[0] == 201
    assert api("DELETE", f"/api/tokens/{created['id']}")[0] == 204
    status, headers, _ = full("GET", "/api/targets")
    assert status == 401 and "WWW-Authenticate" in headers
    assert api("DELETE", f"/api/tokens/{created['id']}")[0] == 404


def test_wrong_tokens_are_401_and_throttled_like_wrong_passwords(app: App, config: Config) -> None:
    wrong = bearer(app, config, "dmp_" + "x" * 43)
    statuses = [wrong("GET", "/api/targets")[0] for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert bearer(app, config, "")("GET", "/api/targets")[0] == 401


def test_tokens_are_useless_without_auth_and_settings_say_so(
    tmp_path: Path, clock: FakeClock
) -> None:
    open_config = make_config(tmp_path)
    app = App.build(open_config, clock=clock)
    try:
        api = Api(build_dispatcher(app, open_config))
        assert api("POST", "/api/tokens", {"name": "x", "scope": "read"})[0] == 201
        assert api("GET", "/api/settings")[2]["auth_enabled"] is False
    finally:
        app.stop(timeout=5)


@pytest.fixture
def server(app: App, config: Config) -> Iterator[DumperHTTPServer]:
    srv = make_server(build_dispatcher(app, config), "127.0.0.1", 0, config.max_body_bytes)
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(srv, stop), daemon=True)
    thread.start()
    yield srv
    stop.set()
    thread.join(10)


def _call(
    srv: DumperHTTPServer, method: str, path: str, auth: str, body: Any = None
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    headers = {"Authorization": auth}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    is_json = resp.getheader("Content-Type") == "application/json"
    return resp.status, json.loads(raw) if raw and is_json else raw


def test_tokens_through_the_real_server(server: DumperHTTPServer) -> None:
    basic = "Basic " + base64.b64encode(b"admin:right").decode()
    status, created = _call(server, "POST", "/api/tokens", basic, {"name": "m", "scope": "read"})
    assert status == 201
    read = f"Bearer {created['token']}"
    assert _call(server, "GET", "/api/settings", read)[0] == 200
    assert _call(server, "GET", "/metrics", read)[0] == 200
    assert _call(server, "POST", "/api/targets", read, target_body())[0] == 403
    status, full = _call(server, "POST", "/api/tokens", read, {"name": "f", "scope": "full"})
    assert status == 403
    status, full = _call(server, "POST", "/api/tokens", basic, {"name": "f", "scope": "full"})
    assert _call(server, "POST", "/api/targets", f"Bearer {full['token']}", target_body())[0] == 201
    assert _call(server, "DELETE", f"/api/tokens/{created['id']}", basic)[0] == 204
    assert _call(server, "GET", "/api/settings", read)[0] == 401
