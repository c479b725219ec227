"""Basic-Auth: which paths need it, the UI-friendly 401, constant-time check, throttling."""

from __future__ import annotations

import base64

import pytest

from dumper.http.auth import BasicAuth, needs_auth
from dumper.http.router import Request, TooManyRequests, Unauthorized


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _req(auth: str | None = None, *, xhr: bool = False, client: str = "10.0.0.1") -> Request:
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    if xhr:
        headers["X-Requested-With"] = "XMLHttpRequest"
    return Request("GET", "/api/targets", headers=headers, client=client)


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api", True),
        ("/api/targets", True),
        ("/api/nope/never", True),
        ("/metrics", True),
        ("/healthz", False),
        ("/readyz", False),
        ("/", False),
        ("/assets/app-1234abcd.js", False),
        ("/apiary", False),
    ],
)
def test_needs_auth_covers_every_api_path_and_metrics(path: str, expected: bool) -> None:
    assert needs_auth(path) is expected


def test_right_credentials_pass_and_return_the_user() -> None:
    auth = BasicAuth("admin", "s3cret:with:colons")
    assert auth.check(_req(_basic("admin", "s3cret:with:colons"))) == "admin"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        _basic("admin", "wrong"),
        _basic("Admin", "s3cret"),
        _basic("admin", "s3cret "),
    ],
)
def test_missing_or_wrong_credentials_are_refused_with_a_challenge(header: str | None) -> None:
    auth = BasicAuth("admin", "s3cret")
    with pytest.raises(Unauthorized) as info:
        auth.check(_req(header))
    assert info.value.challenge is True


def test_ui_requests_get_401_without_a_browser_challenge() -> None:
    auth = BasicAuth("admin", "s3cret")
    with pytest.raises(Unauthorized) as info:
        auth.check(_req(_basic("admin", "nope"), xhr=True))
    assert info.value.challenge is False


def test_repeated_failures_from_one_address_are_throttled_then_released() -> None:
    clock = _Clock()
    auth = BasicAuth(
        "admin", "s3cret", max_failures=3, window=60, block_seconds=30, monotonic=clock
    )
    for _ in range(3):
        with pytest.raises(Unauthorized):
            auth.check(_req(_basic("admin", "guess")))
    # Blocked now, even with the right password: guessing gains nothing while throttled.
    with pytest.raises(TooManyRequests) as info:
        auth.check(_req(_basic("admin", "s3cret")))
    assert 1 <= info.value.retry_after <= 30
    # Another address is not affected.
    assert auth.check(_req(_basic("admin", "s3cret"), client="10.0.0.2")) == "admin"
    clock.t += 31
    assert auth.check(_req(_basic("admin", "s3cret"))) == "admin"


def test_failures_outside_the_window_do_not_add_up() -> None:
    clock = _Clock()
    auth = BasicAuth("admin", "s3cret", max_failures=3, window=10, monotonic=clock)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            auth.check(_req(_basic("admin", "guess")))
        clock.t += 6  # two failures at most fall inside any 10 s window
    assert auth.check(_req(_basic("admin", "s3cret"))) == "admin"


def test_requests_without_credentials_do_not_count_as_failures() -> None:
    auth = BasicAuth("admin", "s3cret", max_failures=2, monotonic=_Clock())
    for _ in range(5):
        with pytest.raises(Unauthorized):
            auth.check(_req(None))
    assert auth.check(_req(_basic("admin", "s3cret"))) == "admin"


def test_success_resets_the_failure_count() -> None:
    auth = BasicAuth("admin", "s3cret", max_failures=2, monotonic=_Clock())
    with pytest.raises(Unauthorized):
        auth.check(_req(_basic("admin", "x")))
    auth.check(_req(_basic("admin", "s3cret")))
    with pytest.raises(Unauthorized):
        auth.check(_req(_basic("admin", "x")))  # 1 failure again, not 2: no 429


def test_many_addresses_cannot_grow_the_table_without_bound() -> None:
    clock = _Clock()
    auth = BasicAuth("admin", "s3cret", max_failures=100, window=1, monotonic=clock, max_clients=50)
    for i in range(500):
        clock.t += 0.01
        with pytest.raises(Unauthorized):
            auth.check(_req(_basic("admin", "x"), client=f"10.1.{i // 256}.{i % 256}"))
    assert len(auth._clients) <= 50
