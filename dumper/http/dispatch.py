"""The dispatcher: Request in, Response out, with auth, routing, static files, errors and headers.

The socket adapter (server.py) and the tests call it the same way, so handlers run in-process.
"""

from __future__ import annotations

from collections.abc import Sequence

from dumper.errors import NotFound
from dumper.http.auth import BasicAuth, needs_auth
from dumper.http.router import (
    MethodNotAllowed,
    Request,
    Response,
    Router,
    error_response,
)
from dumper.http.static import StaticFiles

# Only self: the built UI loads nothing from elsewhere and is never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_CORS_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
_CORS_HEADERS = "Authorization, Content-Type, X-Requested-With, Range"


class Dispatcher:
    """Turns a Request into a Response; never raises."""

    def __init__(
        self,
        router: Router,
        *,
        auth: BasicAuth | None = None,
        static: StaticFiles | None = None,
        cors_origins: Sequence[str] = (),
    ) -> None:
        self.router = router
        self.auth = auth
        self.static = static
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)

    def __call__(self, request: Request) -> Response:
        origin = self._cors_origin(request)
        if origin is not None and request.method == "OPTIONS":
            response = Response(204, {"Access-Control-Max-Age": "600"})
            response.headers["Access-Control-Allow-Methods"] = _CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
        else:
            try:
                response = self._route(request)
            except Exception as exc:  # the one place where every error becomes a response
                response = error_response(exc)
        if needs_auth(request.path) or request.path in ("/healthz", "/readyz"):
            # API answers change with every job; a cached one would show stale status.
            response.headers.setdefault("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = (
                "Content-Disposition, Content-Length"
            )
            response.headers["Vary"] = "Origin"
        length = response.content_length()
        # 204 and 304 carry no body and, per RFC 9110, no Content-Length of their own.
        if length is not None and response.status not in (204, 304):
            response.headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            response.close()
            response.body = b""
        return response

    def _route(self, request: Request) -> Response:
        if self.auth is not None and needs_auth(request.path):
            self.auth.check(request)
        matched = self.router.match(request.method, request.path)
        if matched is not None:
            route, params = matched
            request.params = params
            return route.handler(request)
        if needs_auth(request.path) or request.path in ("/healthz", "/readyz"):
            raise NotFound(f"no route for {request.path}")
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(f"{request.method} is not allowed here", allowed=("GET", "HEAD"))
        if self.static is None:
            raise NotFound("no web UI configured")
        return self.static(request)

    def _cors_origin(self, request: Request) -> str | None:
        origin = request.header("origin")
        if origin and origin.rstrip("/") in self.cors_origins:
            return origin
        return None
