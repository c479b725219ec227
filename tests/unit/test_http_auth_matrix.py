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
from tests.unit.test_http_handlers import make_config

# The only routes that may answer without credentials when auth is on.
OPEN_ROUTES = {("GET", "/healthz"), ("GET", "/readyz")}
WRONG = "Basic " + base64.b64encode(b"admin:wrong").decode()
RIGHT = "Basic " + base64.b64encode(b"admin:right").decode()


@pytest.fixture(scope="module")
def dispatch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatcher]:
    tmp = tmp_path_factory.mktemp("matrix")
    config = make_config(tmp, admin_user="admin", admin_pass="right")
    app = App.build(config)
    app.start()
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
