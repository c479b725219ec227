"""The auth matrix, generated from the router's own table: a new route cannot be left open."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import cast

import pytest

from dumper.app import App
from dumper.http.dispatch import Dispatcher
from dumper.http.handlers import AppFacade, build_router
from dumper.http.router import Request, Route
from dumper.http.server import build_dispatcher
from tests.unit.http.test_handlers import make_config

# The only routes that may answer without credentials when auth is on.
OPEN_ROUTES = {("GET", "/healthz"), ("GET", "/readyz")}
WRONG = "Basic " + base64.b64encode(b"admin:wrong").decode()
RIGHT = "Basic " + base64.b64encode(b"admin:right").decode()


# API tokens by scope; "revoked" was created and revoked. Token 1 is a spare the matrix's
# DELETE /api/tokens/1 may take.
TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def dispatch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    tmp = tmp_path_factory.mktemp("matrix")
    config = make_config(tmp, admin_user="admin", admin_pass="right")
    app = App.build(config)
    app.start()
    for name in ("spare", "read", "full", "revoked"):
        created = app.tokens.create({"name": name, "scope": "read" if name == "read" else "full"})
        TOKENS[name] = created.token
    app.tokens.revoke(4)
    yield build_dispatcher(app, config)
    app.stop(timeout=5)


def _routes() -> list[Route]:
    # The same table the server uses (the app object is not called while building it).
    return list(build_router(cast(AppFacade, object())))


def _concrete(route: Route) -> str:
    return re.sub(r":[a-z_]+", "1", route.pattern)


def _id(route: Route) -> str:
    return f"{route.method} {route.pattern}"


PROTECTED = [r for r in _routes() if (r.method, r.pattern) not in OPEN_ROUTES]


def test_only_the_health_probes_are_outside_api_and_metrics() -> None:
    for route in _routes():
        if (route.method, route.pattern) not in OPEN_ROUTES:
            assert route.pattern.startswith("/api/") or route.pattern == "/metrics", _id(route)


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_protected_route_refuses_missing_and_wrong_credentials(
    dispatch: Dispatcher, route: Route
) -> None:
    path = _concrete(route)
    for i, headers in enumerate([{}, {"Authorization": WRONG}]):
        r = dispatch(Request(route.method, path, headers=headers, client=f"10.9.{i}.{len(path)}"))
        assert r.status == 401, (route, headers)
        assert "WWW-Authenticate" in r.headers
        r.close()
    r = dispatch(
        Request(
            route.method, path, headers={"X-Requested-With": "XMLHttpRequest"}, client="10.8.0.1"
        )
    )
    assert r.status == 401 and "WWW-Authenticate" not in r.headers


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_protected_route_accepts_the_right_credentials(dispatch: Dispatcher, route: Route) -> None:
    body = b"{}" if route.method in ("POST", "PUT") else b""
    headers = {"Authorization": RIGHT, "Content-Type": "application/json"}
    r = dispatch(Request(route.method, _concrete(route), headers=headers, body=body))
    r.close()
    assert r.status not in (401, 429), _id(route)


def _with_token(dispatch: Dispatcher, route: Route, token: str, client: str) -> int:
    body = b"{}" if route.method in ("POST", "PUT") else b""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    r = dispatch(Request(route.method, _concrete(route), headers=headers, body=body, client=client))
    r.close()
    return r.status


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_a_read_token_reads_and_every_change_is_forbidden(
    dispatch: Dispatcher, route: Route
) -> None:
    status = _with_token(dispatch, route, TOKENS["read"], "10.7.0.1")
    if route.method in ("GET", "HEAD"):
        assert status not in (401, 403, 429), _id(route)
    else:
        assert status == 403, _id(route)


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_a_full_token_works_wherever_basic_auth_does(dispatch: Dispatcher, route: Route) -> None:
    assert _with_token(dispatch, route, TOKENS["full"], "10.7.0.2") not in (401, 403, 429)


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_a_revoked_or_wrong_token_is_refused(dispatch: Dispatcher, route: Route) -> None:
    for i, token in enumerate((TOKENS["revoked"], "dmp_wrong", "")):
        assert _with_token(dispatch, route, token, f"10.6.{i}.{PROTECTED.index(route)}") == 401


@pytest.mark.parametrize(
    "route", [r for r in _routes() if (r.method, r.pattern) in OPEN_ROUTES], ids=_id
)
def test_health_probes_stay_open(dispatch: Dispatcher, route: Route) -> None:
    r = dispatch(Request(route.method, route.pattern))
    assert r.status in (200, 503)


@pytest.mark.parametrize("path", ["/", "/targets/1", "/index.html"])
def test_static_ui_stays_open(dispatch: Dispatcher, path: str) -> None:
    r = dispatch(Request("GET", path))
    r.close()
    assert r.status == 200


def test_unknown_api_paths_need_auth_too(dispatch: Dispatcher) -> None:
    assert dispatch(Request("GET", "/api/not-a-route")).status == 401
    assert dispatch(Request("GET", "/api")).status == 401
