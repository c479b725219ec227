"""The dispatcher in-process: JSON 404/405 under /api, auth before routing, CORS, headers, HEAD."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dumper.errors import Conflict
from dumper.http.auth import BasicAuth
from dumper.http.dispatch import Dispatcher
from dumper.http.router import Request, Response, Router, json_response
from dumper.http.static import StaticFiles

AUTH = "Basic " + base64.b64encode(b"admin:pw").decode()


def _router() -> Router:
    r = Router()
    r.add(
        "GET", "/api/things/:id", lambda req: json_response(200, {"id": req.int_param("id")}), "get"
    )
    r.add("POST", "/api/things", lambda req: json_response(201, {}), "create")
    r.add("DELETE", "/api/things/:id", _conflict, "delete")
    r.add(
        "GET", "/healthz", lambda req: json_response(200, {"status": "ok"}), "health", public=True
    )
    r.add("GET", "/api/boom", _boom, "boom")
    return r


def _conflict(request: Request) -> Response:
    raise Conflict("a backup of this target is running")


def _boom(request: Request) -> Response:
    raise ZeroDivisionError("internal detail")


def _json(response: Response) -> dict[str, object]:
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)  # type: ignore[arg-type,no-any-return]


def test_routes_are_dispatched_with_path_params() -> None:
    r = Dispatcher(_router())(Request("GET", "/api/things/7"))
    assert r.status == 200 and _json(r) == {"id": 7}
    assert r.headers["Cache-Control"] == "no-store"


def test_unknown_api_route_is_a_json_404_even_with_a_web_ui(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("ui")
    d = Dispatcher(_router(), static=StaticFiles(tmp_path))
    r = d(Request("GET", "/api/nothing/here"))
    assert r.status == 404 and _json(r)["error"]["code"] == "not_found"  # type: ignore[index]


def test_wrong_method_is_a_json_405_with_allow() -> None:
    r = Dispatcher(_router())(Request("PATCH", "/api/things/1"))
    assert r.status == 405
    assert r.headers["Allow"] == "DELETE, GET, HEAD"
    assert _json(r)["error"]["code"] == "method_not_allowed"  # type: ignore[index]


def test_typed_errors_from_handlers_use_the_table() -> None:
    r = Dispatcher(_router())(Request("DELETE", "/api/things/1"))
    assert r.status == 409
    assert _json(r) == {
        "error": {"code": "conflict", "message": "a backup of this target is running", "fields": {}}
    }


def test_unexpected_exceptions_are_a_generic_500() -> None:
    r = Dispatcher(_router())(Request("GET", "/api/boom"))
    assert r.status == 500
    assert b"internal detail" not in r.body  # type: ignore[operator]
    assert b"Traceback" not in r.body  # type: ignore[operator]


def test_auth_is_checked_before_routing_so_unknown_api_paths_leak_nothing() -> None:
    d = Dispatcher(_router(), auth=BasicAuth("admin", "pw"))
    r = d(Request("GET", "/api/does-not-exist"))
    assert r.status == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic ")
    r = d(Request("GET", "/api/things/1", headers={"Authorization": AUTH}))
    assert r.status == 200


def test_xhr_401_has_no_challenge_header() -> None:
    d = Dispatcher(_router(), auth=BasicAuth("admin", "pw"))
    r = d(Request("GET", "/api/things/1", headers={"X-Requested-With": "XMLHttpRequest"}))
    assert r.status == 401
    assert "WWW-Authenticate" not in r.headers
    assert _json(r)["error"]["code"] == "unauthorized"  # type: ignore[index]


def test_throttled_client_gets_429_with_retry_after() -> None:
    d = Dispatcher(_router(), auth=BasicAuth("admin", "pw", max_failures=2))
    bad = "Basic " + base64.b64encode(b"admin:guess").decode()
    for _ in range(2):
        assert d(Request("GET", "/api/things/1", headers={"Authorization": bad})).status == 401
    r = d(Request("GET", "/api/things/1", headers={"Authorization": AUTH}))
    assert r.status == 429
    assert int(r.headers["Retry-After"]) > 0
    assert _json(r)["error"]["code"] == "too_many_requests"  # type: ignore[index]


def test_healthz_stays_open_with_auth() -> None:
    d = Dispatcher(_router(), auth=BasicAuth("admin", "pw"))
    assert d(Request("GET", "/healthz")).status == 200


def test_no_cors_headers_unless_configured() -> None:
    d = Dispatcher(_router())
    r = d(Request("GET", "/api/things/1", headers={"Origin": "http://evil.example"}))
    assert not any(k.startswith("Access-Control") for k in r.headers)
    assert d(Request("OPTIONS", "/api/things/1", headers={"Origin": "http://x"})).status == 405


def test_cors_for_the_configured_dev_origin_only() -> None:
    d = Dispatcher(_router(), auth=BasicAuth("admin", "pw"), cors_origins=["http://localhost:5173"])
    pre = d(Request("OPTIONS", "/api/things/1", headers={"Origin": "http://localhost:5173"}))
    assert pre.status == 204  # preflight carries no credentials, so it must not need them
    assert pre.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    r = d(
        Request(
            "GET",
            "/api/things/1",
            headers={"Origin": "http://localhost:5173", "Authorization": AUTH},
        )
    )
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert r.headers["Vary"] == "Origin"
    other = d(
        Request(
            "GET", "/api/things/1", headers={"Origin": "http://evil.example", "Authorization": AUTH}
        )
    )
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("path", ["/api/things/1", "/healthz"])
def test_security_headers_on_api_responses(path: str) -> None:
    r = Dispatcher(_router())(Request("GET", path))
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in r.headers


def test_head_on_api_route_has_length_and_no_body() -> None:
    r = Dispatcher(_router())(Request("HEAD", "/api/things/12"))
    assert r.status == 200
    assert r.headers["Content-Length"] == str(len(b'{"id":12}'))
    assert r.body == b""


def test_204_has_no_content_length() -> None:
    r = Router()
    r.add("DELETE", "/api/things/:id", lambda req: Response(204), "delete")
    response = Dispatcher(r)(Request("DELETE", "/api/things/1"))
    assert response.status == 204 and "Content-Length" not in response.headers
