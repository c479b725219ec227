"""Handlers in-process through the dispatcher, against a real App (sqlite file in tmp_path)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.config import Config
from dumper.http.dispatch import Dispatcher
from dumper.http.router import Request
from dumper.http.server import build_dispatcher
from tests.conftest import free_port

KEY = b"k" * 32


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    web = tmp_path / "web"
    web.mkdir(exist_ok=True)
    (web / "index.html").write_text("<!doctype html>ui")
    base = Config(
        app_host="127.0.0.1",
        app_port=0,
        enc_key=KEY,
        sqlite_path=tmp_path / "app" / "app.db",
        backup_dir=tmp_path / "backups",
        web_dir=web,
        max_body_bytes=64 * 1024,
    )
    return replace(base, **overrides)


class Api:
    """Calls the dispatcher like a client would; returns (status, headers, parsed JSON or bytes)."""

    def __init__(self, dispatch: Dispatcher, auth: tuple[str, str] | None = None) -> None:
        self.dispatch = dispatch
        self.auth = auth

    def __call__(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        path, _, query = path.partition("?")
        hdrs = dict(headers or {})
        raw = b""
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if self.auth:
            token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            hdrs.setdefault("Authorization", f"Basic {token}")
        q: dict[str, list[str]] = {}
        for part in filter(None, query.split("&")):
            k, _, v = part.partition("=")
            q.setdefault(k, []).append(v)
        response = self.dispatch(Request(method, path, query=q, headers=hdrs, body=raw))
        data = response.body
        if not isinstance(data, bytes):
            data = b"".join(data) if not hasattr(data, "read") else data.read()  # type: ignore[union-attr,arg-type]
            response.close()
        if response.headers.get("Content-Type") == "application/json":
            return response.status, response.headers, json.loads(data)
        return response.status, response.headers, data


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App.build(make_config(tmp_path))
    application.start()
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, tmp_path: Path) -> Api:
    return Api(build_dispatcher(app, make_config(tmp_path)))


def target_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "shop",
        "host": "127.0.0.1",
        "port": free_port(),  # nothing listens there: a connection test fails fast
        "dbname": "shop",
        "user": "backup",
        "password": "hunter2",
        "comment": "",
        "schedule_time": "03:00",
        "retention_days": 14,
        "auto_compress": True,
    }
    body.update(overrides)
    return body


TARGET_FIELDS = {
    "id", "name", "host", "port", "dbname", "user", "comment", "schedule_time", "retention_days",
    "auto_compress", "notify", "ping_url", "keep_last", "keep_daily", "keep_weekly",
    "keep_monthly", "keep_yearly", "schedule_kind", "schedule_every_hours", "schedule_minute",
    "schedule_weekdays", "verify_after_backup", "strict", "parallel_connections", "created_at",
    "updated_at",
    "has_password", "password_error", "tls", "tls_ca", "tls_cert", "has_tls_key", "next_run_at",
    "last_backup_status", "last_backup_at", "last_backup_size_bytes", "last_success_at",
    "last_success_size_bytes", "stale", "running_job", "last_backup_warnings", "last_verification",
    "encryption", "age_recipient", "has_age_passphrase", "exclude",
}  # fmt: skip


def test_healthz_and_readyz_when_started(api: Api) -> None:
    assert api("GET", "/healthz")[::2] == (200, {"status": "ok"})
    assert api("GET", "/readyz")[::2] == (200, {"status": "ready", "reasons": []})


def test_readyz_is_503_with_reasons_before_the_scheduler_runs(tmp_path: Path) -> None:
    app = App.build(make_config(tmp_path))
    try:
        status, _, body = Api(build_dispatcher(app, make_config(tmp_path)))("GET", "/readyz")
    finally:
        app.stop(timeout=1)
    assert status == 503
    assert body["status"] == "not ready" and body["reasons"]


def test_create_target_returns_201_without_the_password(api: Api) -> None:
    status, _, body = api("POST", "/api/targets", target_body())
    assert status == 201
    assert set(body) == TARGET_FIELDS
    assert body["has_password"] is True
    assert "hunter2" not in json.dumps(body)
    assert body["name"] == "shop" and body["schedule_time"] == "03:00"
    assert body["next_run_at"].endswith("T03:00:00Z")
    assert body["last_backup_status"] is None and body["running_job"] is None
    assert api("GET", f"/api/targets/{body['id']}")[2] == body
    assert api("GET", "/api/targets")[2] == [body]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"host": ""}, "host"),
        ({"port": "3306"}, "port"),
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"port": True}, "port"),
        ({"dbname": "d" * 65}, "dbname"),
        ({"user": ""}, "user"),
        ({"schedule_time": "24:00"}, "schedule_time"),
        ({"schedule_time": "3:00"}, "schedule_time"),
        ({"retention_days": 3651}, "retention_days"),
        ({"retention_days": 1.5}, "retention_days"),
        ({"auto_compress": "yes"}, "auto_compress"),
        ({"comment": "c" * 1001}, "comment"),
        ({"tls": "on"}, "tls"),
        ({"tls_ca": "not a certificate"}, "tls_ca"),
        ({"tls_key": "-----BEGIN PRIVATE KEY-----"}, "tls_cert"),
        ({"color": "red"}, "color"),
    ],
)
def test_invalid_target_is_422_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    status, _, body = api("POST", "/api/targets", target_body(**overrides))
    assert status == 422
    assert body["error"]["code"] == "invalid_input"
    assert field in body["error"]["fields"]
    assert api("GET", "/api/targets")[2] == []


def test_duplicate_target_name_is_refused(api: Api) -> None:
    assert api("POST", "/api/targets", target_body())[0] == 201
    status, _, body = api("POST", "/api/targets", target_body())
    assert status == 409 and body["error"]["code"] == "conflict"
    assert body["error"]["fields"] == {"name": "already taken"}
    assert len(api("GET", "/api/targets")[2]) == 1


def test_malformed_or_non_json_bodies_are_400(api: Api) -> None:
    assert api("POST", "/api/targets", b"{nope")[0] == 400
    status, _, body = api("POST", "/api/targets", b"name=x", {"Content-Type": "text/plain"})
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert api("POST", "/api/targets", [target_body()])[0] == 400


def test_body_over_the_limit_is_413(api: Api) -> None:
    status, _, body = api("POST", "/api/targets", target_body(comment="x" * 70_000))
    assert status == 413 and body["error"]["code"] == "payload_too_large"


def test_put_replaces_fields_and_keeps_the_password_when_empty_or_missing(api: Api) -> None:
    created = api("POST", "/api/targets", target_body())[2]
    path = f"/api/targets/{created['id']}"
    update = target_body(name="shop2", port=3307, schedule_time=None, password="")
    status, _, body = api("PUT", path, update)
    assert status == 200
    assert body["name"] == "shop2" and body["port"] == 3307
    assert body["schedule_time"] is None and body["next_run_at"] is None
    assert body["has_password"] is True
    del update["password"]
    assert api("PUT", path, update)[2]["has_password"] is True
    assert api("PUT", "/api/targets/999", update)[0] == 404
    assert api("PUT", path, {**update, "port": "x"})[0] == 422


def test_unknown_ids_are_404(api: Api) -> None:
    for method, path in [
        ("GET", "/api/targets/999"),
        ("DELETE", "/api/targets/999"),
        ("POST", "/api/targets/999/backup"),
        ("GET", "/api/targets/999/backups"),
        ("GET", "/api/backups/999"),
        ("GET", "/api/backups/999/download"),
        ("DELETE", "/api/backups/999"),
        ("GET", "/api/restores/999"),
    ]:
        status, _, body = api(method, path)
        assert status == 404, (method, path)
        assert body["error"]["code"] == "not_found"


def test_delete_target_is_204_then_gone(api: Api) -> None:
    created = api("POST", "/api/targets", target_body())[2]
    assert api("DELETE", f"/api/targets/{created['id']}")[0] == 204
    assert api("GET", f"/api/targets/{created['id']}")[0] == 404


def test_delete_rejects_a_malformed_with_backups_flag(api: Api) -> None:
    created = api("POST", "/api/targets", target_body())[2]
    status, _, body = api("DELETE", f"/api/targets/{created['id']}?with_backups=maybe")
    assert status == 422 and "with_backups" in body["error"]["fields"]
    assert api("GET", f"/api/targets/{created['id']}")[0] == 200


def test_connection_test_of_a_dead_port_reports_not_ok(api: Api) -> None:
    status, _, report = api("POST", "/api/targets/test", target_body())
    assert status == 200
    assert report["ok"] is False and report["message"]
    created = api("POST", "/api/targets", target_body())[2]
    status, _, report = api("POST", f"/api/targets/{created['id']}/test")
    assert status == 200 and report["ok"] is False


def test_restore_of_unknown_backup_is_404_and_bad_body_is_400(api: Api) -> None:
    assert api("POST", "/api/backups/999/restore", {"confirm": "shop"})[0] == 404
    assert api("POST", "/api/backups/999/restore", b"{")[0] == 400


def test_settings_show_config_without_secrets(tmp_path: Path) -> None:
    config = make_config(tmp_path, admin_user="admin", admin_pass="pa55-word")
    app = App.build(config)
    try:
        status, _, body = Api(build_dispatcher(app, config), ("admin", "pa55-word"))(
            "GET", "/api/settings"
        )
    finally:
        app.stop(timeout=1)
    assert status == 200
    assert body["auth_enabled"] is True
    assert body["config"]["backup_dir"] == str(config.backup_dir)
    text = json.dumps(body)
    assert "pa55-word" not in text
    assert base64.b64encode(KEY).decode() not in text


def test_jobs_is_an_empty_list_when_idle(api: Api) -> None:
    assert api("GET", "/api/jobs")[::2] == (200, [])


def test_metrics_are_prometheus_text(api: Api) -> None:
    api("POST", "/api/targets", target_body())
    status, headers, body = api("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b'target="shop"' in body


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "bad\u0097host"])
def test_connection_test_of_an_unencodable_host_name_is_a_report_not_a_500(
    api: Api, host: str
) -> None:
    status, _, report = api("POST", "/api/targets/test", target_body(host=host))
    assert status == 200
    assert report["ok"] is False and "host" in report["message"]
