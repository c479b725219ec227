"""HTTP Basic-Auth and API tokens (Bearer) for /api and /metrics: constant-time check,
UI-friendly 401, throttling, and the scope a request runs with (`full`, or `read` for a read token).

Every route needs credentials unless it is marked public (the health probes); a path that matches
no route needs them when it lies under /api or is /metrics, so a new route cannot be left open.
Failed logins are counted per (client address, user name): a stranger guessing under any name
cannot lock the admin out, and a success clears only its own pair.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from dumper.http.router import Request, TooManyRequests, Unauthorized
from dumper.log import get_logger

log = get_logger("http.auth")

# token -> its scope ("read" or "full"), None when unknown or revoked (dumper.tokens)
TokenCheck = Callable[[str], str | None]
_BEARER_USER = "\0bearer"  # the throttle's "user name" for token attempts: no real name has a NUL


def needs_auth(path: str) -> bool:
    """True for every /api path (known or not) and /metrics, for paths that match no route."""
    return path == "/api" or path.startswith("/api/") or path == "/metrics"


@dataclass
class _Client:
    failures: deque[float]
    blocked_until: float = 0.0


class BasicAuth:
    """Checks credentials; after `max_failures` wrong ones within `window` seconds, one (address,
    user name) pair gets 429 for `block_seconds` (even with the right password, so guessing gains
    nothing)."""

    def __init__(
        self,
        user: str,
        password: str,
        *,
        max_failures: int = 5,
        window: float = 60.0,
        block_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
        tokens: TokenCheck | None = None,
    ) -> None:
        # Compare digests so the comparison time does not depend on the secret's length either.
        self._user = hashlib.sha256(user.encode()).digest()
        self._password = hashlib.sha256(password.encode()).digest()
        self.max_failures = max_failures
        self.window = window
        self.block_seconds = block_seconds
        self._now = monotonic
        self._max_clients = max_clients
        self._clients: dict[tuple[str, str], _Client] = {}
        self._lock = threading.Lock()
        self._tokens = tokens

    def access(self, request: Request) -> str:
        """The scope of the request's credentials: "full" (Basic-Auth or a full token) or "read".

        Raises Unauthorized or TooManyRequests like `check`.
        """
        scheme, _, value = (request.header("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or self._tokens is None:
            self.check(request)
            return "full"
        challenge = (request.header("x-requested-with") or "").lower() != "xmlhttprequest"
        key = (request.client, _BEARER_USER)
        now = self._now()
        self._refuse_blocked(key, now)
        scope = self._tokens(value.strip()) if value.strip() else None
        if scope is None:
            self._record_failure(key, now)
            raise Unauthorized("unknown or revoked token", challenge=challenge)
        with self._lock:
            self._clients.pop(key, None)
        return scope

    def _refuse_blocked(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            client = self._clients.get(key)
            if client is not None and client.blocked_until > now:
                raise TooManyRequests(
                    "too many failed logins, try again later",
                    retry_after=max(1, int(client.blocked_until - now + 0.999)),
                )

    def check(self, request: Request) -> str:
        """The authenticated user name; raises Unauthorized or TooManyRequests."""
        # XMLHttpRequest means our UI: no WWW-Authenticate, so the browser shows our login.
        challenge = (request.header("x-requested-with") or "").lower() != "xmlhttprequest"
        credentials = _decode_basic(request.header("authorization"))
        if credentials is None:
            raise Unauthorized("authentication required", challenge=challenge)
        user, password = credentials
        key = (request.client, user)
        now = self._now()
        self._refuse_blocked(key, now)
        ok_user = hmac.compare_digest(hashlib.sha256(user.encode()).digest(), self._user)
        ok_pass = hmac.compare_digest(hashlib.sha256(password.encode()).digest(), self._password)
        if ok_user and ok_pass:
            with self._lock:
                self._clients.pop(key, None)
            return user
        self._record_failure(key, now)
        raise Unauthorized("wrong user name or password", challenge=challenge)

    def _record_failure(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            if key not in self._clients and len(self._clients) >= self._max_clients:
                self._prune(now)
            client = self._clients.setdefault(key, _Client(deque()))
            client.failures.append(now)
            while client.failures and client.failures[0] <= now - self.window:
                client.failures.popleft()
            if len(client.failures) >= self.max_failures:
                client.blocked_until = now + self.block_seconds
                client.failures.clear()
                log.warning(
                    "login throttled for %s (user %r) after repeated failures", key[0], key[1][:64]
                )

    def _prune(self, now: float) -> None:
        """Forget pairs with nothing recent, so many clients cannot grow memory forever."""
        for key in list(self._clients):
            c = self._clients[key]
            if c.blocked_until <= now and (not c.failures or c.failures[-1] <= now - self.window):
                del self._clients[key]
        if len(self._clients) >= self._max_clients:
            self._clients.pop(next(iter(self._clients)))


def _decode_basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password
