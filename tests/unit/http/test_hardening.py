"""A hostile web page, a hostile neighbour and bad input, against the real dispatcher and App.

Each test here failed on the service before the hardening: cross-site requests ran, auth was
decided by a path string, a stranger's wrong logins locked the admin out, bad input gave 500.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.config import Config
from dumper.http.auth import BasicAuth
from dumper.http.dispatch import Dispatcher, client_address
from dumper.http.router import Request, Response
from dumper.http.server import build_dispatcher
from tests.unit.http.test_handlers import make_config

RIGHT = "Basic " + base64.b64encode(b"admin:right").decode()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def built(tmp_path: Path) -> Iterator[tuple[App, Config]]:
    config = make_config(tmp_path, admin_user="admin", admin_pass="right")
    app = App.build(config)
    app.start()
    yield app, config
    app.stop(timeout=5)


@pytest.fixture
def dispatch(built: tuple[App, Config]) -> Dispatcher:
    app, config = built
    return build_dispatcher(app, config)


def _target(app: App) -> int:
    view = app.create_target(
        {
            "name": "shop",
            "host": "127.0.0.1",
            "port": 1,
            "dbname": "shop",
            "user": "u",
            "password": "p",
        }
    )
    return int(view.id)


def _body(response: Response) -> dict[str, Any]:
    assert isinstance(response.body, bytes)
    return json.loads(response.body)  # type: ignore[no-any-return]


# --- cross-site requests ----------------------------------------------------------------------

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:9999"},  # same host, another port: another origin
]


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/targets/{id}/backup"),
        ("POST", "/api/targets/{id}/test"),
        ("POST", "/api/backups/1/cancel"),
        ("POST", "/api/restores/1/cancel"),
        ("DELETE", "/api/targets/{id}"),
        ("PUT", "/api/targets/{id}"),
        ("POST", "/api/targets"),
    ],
)
def test_a_cross_site_request_is_refused_with_cached_credentials(
    built: tuple[App, Config],
    dispatch: Dispatcher,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    app, _ = built
    target_id = _target(app)
    # a form from another site: text/plain, the browser's cached credentials attached
    request = Request(
        method,
        path.format(id=target_id),
        headers={
            "Authorization": RIGHT,
            "Host": "127.0.0.1:8080",
            "Content-Type": "text/plain",
            **headers,
        },
        body=b'{"confirm":"shop"}=',
    )
    response = dispatch(request)
    assert response.status == 403
    assert _body(response)["error"]["code"] == "forbidden"
    assert app.list_backups(target_id) == []
    assert app.get_target(target_id).name == "shop"


def test_a_cross_site_request_is_refused_with_auth_off(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    app = App.build(config)
    app.start()
    try:
        target_id = _target(app)
        request = Request(
            "POST",
            f"/api/targets/{target_id}/backup",
            headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        )
        assert build_dispatcher(app, config)(request).status == 403
        assert app.list_backups(target_id) == []
    finally:
        app.stop(timeout=5)


def test_curl_without_origin_headers_still_works(
    built: tuple[App, Config], dispatch: Dispatcher
) -> None:
    app, _ = built
    target_id = _target(app)
    response = dispatch(
        Request("POST", f"/api/targets/{target_id}/test", headers={"Authorization": RIGHT})
    )
    assert response.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        # the UI itself, served by dumper: the browser says same-origin
        {
            "Sec-Fetch-Site": "same-origin",
            "Origin": "http://127.0.0.1:8080",
            "Host": "127.0.0.1:8080",
        },
        # behind a TLS reverse proxy that keeps Host
        {"Origin": "https://backup.example.org", "Host": "backup.example.org"},
        # behind a proxy that rewrites Host to the upstream and says the original
        {
            "Origin": "https://backup.example.org",
            "Host": "dumper:8080",
            "X-Forwarded-Host": "backup.example.org",
        },
        # an old browser without Sec-Fetch-*, default port spelled out by the proxy
        {"Origin": "https://backup.example.org", "Host": "backup.example.org:443"},
        # typed into the address bar / a bookmark
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_the_ui_keeps_working_directly_and_behind_a_proxy(
    built: tuple[App, Config], dispatch: Dispatcher, headers: dict[str, str]
) -> None:
    app, _ = built
    target_id = _target(app)
    request = Request(
        "POST", f"/api/targets/{target_id}/test", headers={"Authorization": RIGHT, **headers}
    )
    assert dispatch(request).status == 200


def test_reads_are_not_refused_cross_site(dispatch: Dispatcher) -> None:
    # a cross-site GET cannot change anything and its answer is unreadable without CORS
    request = Request(
        "GET", "/api/targets", headers={"Authorization": RIGHT, "Sec-Fetch-Site": "cross-site"}
    )
    assert dispatch(request).status == 200


# --- auth on the exact route, control characters ---------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\x00", "\t"])
def test_a_control_character_in_the_path_is_400_not_an_open_route(
    dispatch: Dispatcher, suffix: str
) -> None:
    for path in ("/metrics", "/api/targets", "/healthz"):
        response = dispatch(Request("GET", path + suffix))
        assert response.status == 400, path
        assert _body(response)["error"]["code"] == "bad_request"


def test_metrics_with_a_trailing_newline_matches_no_route() -> None:
    from typing import cast

    from dumper.http.handlers import AppFacade, build_router

    router = build_router(cast(AppFacade, object()))
    assert router.match("GET", "/metrics\n") is None
    assert router.match("GET", "/metrics") is not None


# --- throttling ------------------------------------------------------------------------------


def test_a_strangers_wrong_logins_do_not_lock_out_the_admin(dispatch: Dispatcher) -> None:
    for user in ("root", "admin2", "x", "y", "z", "q", "root"):
        r = dispatch(
            Request("GET", "/api/targets", headers={"Authorization": _basic(user, "guess")})
        )
        assert r.status in (401, 429)
    r = dispatch(Request("GET", "/api/targets", headers={"Authorization": RIGHT}))
    assert r.status == 200


def test_wrong_logins_under_the_admin_name_throttle_that_pair_only(dispatch: Dispatcher) -> None:
    wrong = _basic("admin", "wrong")
    statuses = [
        dispatch(Request("GET", "/api/targets", headers={"Authorization": wrong})).status
        for _ in range(6)
    ]
    assert statuses[-1] == 429
    blocked = dispatch(Request("GET", "/api/targets", headers={"Authorization": RIGHT}))
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) >= 1
    # another address is not affected
    other = Request("GET", "/api/targets", headers={"Authorization": RIGHT}, client="10.0.0.7")
    assert dispatch(other).status == 200


def test_a_success_clears_only_its_own_pair() -> None:
    now = [0.0]
    auth = BasicAuth("admin", "right", max_failures=3, monotonic=lambda: now[0])
    d = Dispatcher(_router_with_one_route(), auth=auth)

    def call(header: str, client: str = "10.0.0.1") -> int:
        return d(Request("GET", "/api/x", headers={"Authorization": header}, client=client)).status

    for _ in range(2):
        assert call(_basic("mallory", "a")) == 401
    assert call(RIGHT) == 200
    # mallory's two failures were not cleared by the admin's success: one more blocks her
    assert call(_basic("mallory", "a")) == 401
    assert call(_basic("mallory", "a")) == 429


def _router_with_one_route() -> Any:
    from dumper.http.router import Router, json_response

    r = Router()
    r.add("GET", "/api/x", lambda req: json_response(200, {}), "x")
    return r


# --- trusted proxies -------------------------------------------------------------------------

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # the proxy says who the client is
        ("127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # the client's own claim ignored
        ("127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # two trusted hops
        ("192.0.2.5", "203.0.113.9", "192.0.2.5"),  # not a trusted proxy: header ignored
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str, xff: str | None, expected: str
) -> None:
    assert client_address(peer, xff, PROXIES) == expected


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert client_address("127.0.0.1", "203.0.113.9", ()) == "127.0.0.1"


def test_behind_a_trusted_proxy_each_client_is_throttled_alone(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        admin_user="admin",
        admin_pass="right",
        trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    app = App.build(config)
    try:
        d = build_dispatcher(app, config)

        def call(header: str, xff: str) -> int:
            h = {"Authorization": header, "X-Forwarded-For": xff}
            return d(Request("GET", "/api/targets", headers=h, client="127.0.0.1")).status

        for _ in range(6):
            call(_basic("admin", "wrong"), "198.51.100.1")
        assert call(_basic("admin", "wrong"), "198.51.100.1") == 429
        assert call(RIGHT, "198.51.100.2") == 200
    finally:
        app.stop(timeout=5)


# --- allowed hosts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("dumper.lan", 200),
        ("DUMPER.lan:8080", 200),
        ("sub.backup.example.org", 200),
        ("localhost:8080", 200),
        ("127.0.0.1:8080", 200),
        ("rebind.attacker.example", 400),
        ("", 400),
    ],
)
def test_allowed_hosts_refuses_other_host_names(tmp_path: Path, host: str, status: int) -> None:
    config = make_config(tmp_path, allowed_hosts=("dumper.lan", "*.backup.example.org"))
    app = App.build(config)
    try:
        response = build_dispatcher(app, config)(
            Request("GET", "/api/targets", headers={"Host": host})
        )
        assert response.status == status
    finally:
        app.stop(timeout=5)


# --- bad input is a 4xx, never a 5xx ----------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "comment", "host", "dbname"])
def test_a_lone_surrogate_in_a_json_string_is_400(dispatch: Dispatcher, field: str) -> None:
    doc = {"name": "n", "host": "h", "port": 3306, "dbname": "d", "user": "u", "password": "p"}
    raw = json.dumps(doc).replace(
        '"n"' if field == "name" else f'"{doc.get(field, "")}"', '"\\ud800"', 1
    )
    if field == "comment":
        raw = raw[:-1] + ', "comment": "\\ud800"}'
    response = dispatch(
        Request(
            "POST",
            "/api/targets",
            headers={"Authorization": RIGHT, "Content-Type": "application/json"},
            body=raw.encode(),
        )
    )
    assert response.status == 400, raw


def test_json_nested_100000_deep_is_400(dispatch: Dispatcher) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    request = Request(
        "POST",
        "/api/targets",
        headers={"Authorization": RIGHT, "Content-Type": "application/json"},
        body=body,
    )
    assert dispatch(request).status in (400, 413)


def test_json_nested_100000_deep_under_the_size_limit_is_400(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_body_bytes=1024 * 1024)
    app = App.build(config)
    try:
        body = b'{"name":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        request = Request(
            "POST", "/api/targets", headers={"Content-Type": "application/json"}, body=body
        )
        assert build_dispatcher(app, config)(request).status == 400
    finally:
        app.stop(timeout=5)


def test_a_static_path_over_255_characters_is_not_a_500(
    dispatch: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="dumper"):
        for path in ("/" + "a" * 300, "/assets/" + "b" * 5000 + ".js", "/x/" + "c" * 256 + "/y"):
            response = dispatch(Request("GET", path))
            response.close()
            assert response.status in (200, 404), path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_range_with_5000_digits_is_ignored_not_a_500(tmp_path: Path) -> None:
    from dumper.http.files import file_response

    f = tmp_path / "x.sql.gz"
    f.write_bytes(b"0123456789")
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000):
        response = file_response(f, Request("GET", "/d", headers={"Range": header}))
        response.close()
        assert response.status == 200
