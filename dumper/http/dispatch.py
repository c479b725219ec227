"""The dispatcher: Request in, Response out, with the checks every request passes, routing,
static files, errors and headers.

A request is admitted from its headers alone (host, path, cross-site check, credentials, route),
and only then may the server read a body, and only for a route that takes one. The socket
adapter (server.py) and the tests call it the same way, so handlers run in-process.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from dumper.errors import NotFound
from dumper.http.auth import BasicAuth, needs_auth
from dumper.http.router import (
    BadRequest,
    Forbidden,
    LengthRequired,
    MethodNotAllowed,
    PayloadTooLarge,
    Request,
    Response,
    Route,
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
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A Host header names these whatever ALLOWED_HOSTS says: a rebinding page cannot send them, and
# the container's own health check uses them.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
BodyReader = Callable[[Route], None]


def printable(text: str) -> str:
    """Text safe for one log line: control characters as \\xNN, at most 300 characters."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= 300 else text[:300] + "..."


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or behind trusted proxies the nearest untrusted address
    of X-Forwarded-For (read from the right, since a client can put anything on the left)."""
    if not trusted or not forwarded_for or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)


def _host_name(value: str) -> str:
    """The name part of a Host header or an origin's netloc, lower-cased, without the port."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0].rstrip(".") if ":" in value else value.rstrip(".")


def _netloc(origin: str) -> str | None:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def _admit_upload(request: Request, limit: int) -> None:
    """An upload's size is declared and allowed before a byte of it is read."""
    if request.header("content-length") is None:
        raise LengthRequired("an upload needs a Content-Length (chunked bodies are refused)")
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"the file is larger than UPLOAD_MAX_BYTES ({limit} bytes)")


class Dispatcher:
    """Turns a Request into a Response; never raises."""

    def __init__(
        self,
        router: Router,
        *,
        auth: BasicAuth | None = None,
        static: StaticFiles | None = None,
        cors_origins: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        trusted_proxies: Sequence[Network] = (),
    ) -> None:
        self.router = router
        self.auth = auth
        self.static = static
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self.trusted_proxies = tuple(trusted_proxies)

    def __call__(self, request: Request, read_body: BodyReader | None = None) -> Response:
        """The response; `read_body(route)` is called once the request is admitted and only for
        a route that takes a body (the server reads it then; in-process the body is there)."""
        request.client = client_address(
            request.client, request.header("x-forwarded-for"), self.trusted_proxies
        )
        origin = self._cors_origin(request)
        if origin is not None and request.method == "OPTIONS":
            response = Response(204, {"Access-Control-Max-Age": "600"})
            response.headers["Access-Control-Allow-Methods"] = _CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
        else:
            try:
                response = self._route(request, read_body)
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

    def _route(self, request: Request, read_body: BodyReader | None) -> Response:
        if _CONTROL.search(request.path):
            raise BadRequest("the path holds a control character")
        self._check_host(request)
        route: Route | None = None
        refused: MethodNotAllowed | None = None
        try:
            matched = self.router.match(request.method, request.path)
        except MethodNotAllowed as exc:
            matched, refused = None, exc
        if matched is not None:
            route, request.params = matched
        # Auth is decided on the route that matched; a path matching none is protected by prefix.
        protected = not route.public if route is not None else needs_auth(request.path)
        if request.method not in SAFE_METHODS:
            self._check_same_origin(request)
        if self.auth is not None and protected:
            scope = self.auth.access(request)
            if scope != "full" and request.method not in SAFE_METHODS:
                raise Forbidden(f"a {scope}-only token cannot change anything")
        if refused is not None:
            raise refused
        if route is not None:
            if route.stream_limit is not None:
                _admit_upload(request, route.stream_limit)
            if (route.takes_body or route.stream_limit is not None) and read_body is not None:
                read_body(route)
            return route.handler(request)
        if protected or request.path in ("/healthz", "/readyz"):
            raise NotFound(f"no route for {printable(request.path)}")
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(f"{request.method} is not allowed here", allowed=("GET", "HEAD"))
        if self.static is None:
            raise NotFound("no web UI configured")
        return self.static(request)

    def _check_host(self, request: Request) -> None:
        """ALLOWED_HOSTS: refuse a Host this service was not told it is (DNS rebinding)."""
        if not self.allowed_hosts:
            return
        host = _host_name(request.header("host") or "")
        if host in LOOPBACK_HOSTS:
            return
        for allowed in self.allowed_hosts:
            if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
                return
        raise BadRequest("this host name is not in ALLOWED_HOSTS")

    def _check_same_origin(self, request: Request) -> None:
        """A state-changing request a browser marks as coming from another site never runs.

        Browsers re-send cached Basic-Auth credentials with a form another site submits, so
        credentials alone prove nothing. Sec-Fetch-Site (set by the browser, not by pages) is
        believed when present; otherwise an Origin must name this service. curl sends neither.
        """
        origin = request.header("origin")
        if origin is not None and origin.rstrip("/") in self.cors_origins:
            return
        site = (request.header("sec-fetch-site") or "").strip().lower()
        if site:
            if site in ("same-origin", "none"):
                return
            raise Forbidden(f"cross-site request refused (Sec-Fetch-Site: {printable(site)})")
        if origin is None:
            return
        netloc = _netloc(origin)
        if netloc is not None and (
            netloc in self._own_netlocs(request) or _host_name(netloc) in self.allowed_hosts
        ):
            return
        raise Forbidden("cross-site request refused: the Origin is not this service")

    def _own_netlocs(self, request: Request) -> set[str]:
        """The host[:port] this request was sent to, as the browser saw it (a reverse proxy may
        change Host and say the original in X-Forwarded-Host)."""
        names = {(request.header("host") or "").strip().lower()}
        forwarded = request.header("x-forwarded-host")
        if forwarded:
            names.update(h.strip().lower() for h in forwarded.split(","))
        # An Origin omits the default port: https://example.org matches Host example.org:443.
        for name in list(names):
            for default in (":80", ":443"):
                if name.endswith(default):
                    names.add(name[: -len(default)])
        names.discard("")
        return names

    def _cors_origin(self, request: Request) -> str | None:
        origin = request.header("origin")
        if origin and origin.rstrip("/") in self.cors_origins:
            return origin
        return None
