"""Request/Response values, the route table with path parameters, and the ONE error->status table.

Handlers take a Request and return a Response; they never touch the socket.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from dumper.errors import (
    AgeKeyRequired,
    BackupCorrupt,
    ConfirmationRequired,
    Conflict,
    ConnectionFailed,
    DecryptionError,
    DumperError,
    InvalidInput,
    NotFound,
    StorageFull,
)
from dumper.log import get_logger

log = get_logger("http")

Body = bytes | BinaryIO | Iterable[bytes]


class Readable(Protocol):
    """What an upload's handler reads its body from: `read(n)` gives b"" at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


JSON_TYPE = "application/json"


# --- errors that only the HTTP layer raises ----------------------------------------------------


class BadRequest(DumperError):
    """Malformed JSON, a wrong content type or a body that is not what the route expects."""

    code = "bad_request"


class PayloadTooLarge(DumperError):
    code = "payload_too_large"


class LengthRequired(DumperError):
    """An upload without Content-Length: its size must be known (and allowed) before reading."""

    code = "length_required"


class Unauthorized(DumperError):
    """Missing or wrong credentials; `challenge` says whether to send WWW-Authenticate."""

    code = "unauthorized"

    def __init__(self, message: str, *, challenge: bool = True) -> None:
        super().__init__(message)
        self.challenge = challenge


class Forbidden(DumperError):
    """A request the service will not run, such as one a browser marks as cross-site."""

    code = "forbidden"


class TooManyRequests(DumperError):
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MethodNotAllowed(DumperError):
    code = "method_not_allowed"

    def __init__(self, message: str, *, allowed: Iterable[str]) -> None:
        super().__init__(message)
        self.allowed = sorted(set(allowed))


class RangeNotSatisfiable(DumperError):
    code = "range_not_satisfiable"

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


# The one table. Order matters: a subclass comes before its base (ConfirmationRequired is an
# InvalidInput). Anything not listed is a logged 500 with a generic message.
ERROR_TABLE: tuple[tuple[type[DumperError], int, str], ...] = (
    (ConfirmationRequired, 400, "confirmation_required"),
    (AgeKeyRequired, 422, "key_required"),
    (InvalidInput, 422, "invalid_input"),
    (BadRequest, 400, "bad_request"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (DecryptionError, 409, "decryption_failed"),
    (ConnectionFailed, 502, "connection_failed"),
    (BackupCorrupt, 422, "backup_corrupt"),
    (StorageFull, 507, "storage_full"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (LengthRequired, 411, "length_required"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (TooManyRequests, 429, "too_many_requests"),
    (MethodNotAllowed, 405, "method_not_allowed"),
    (RangeNotSatisfiable, 416, "range_not_satisfiable"),
)


def status_for(exc: BaseException) -> tuple[int, str] | None:
    """The (status, code) of a known error, or None for an unexpected one."""
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            return status, code
    return None


# --- values --------------------------------------------------------------------------------


@dataclass
class Request:
    """One parsed HTTP request; `path` is percent-decoded and without the query."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-case
    body: bytes = b""
    content_length: int | None = None  # declared length; the server skips reading huge bodies
    client: str = "127.0.0.1"
    params: dict[str, str] = field(default_factory=dict)
    # an upload route's body, read as it arrives (server.py); in-process, `body` stands in
    stream: Readable | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        if self.content_length is None:
            self.content_length = len(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def body_stream(self) -> Readable:
        """The body to read in pieces: the server's bounded stream, or `body` in-process."""
        return self.stream if self.stream is not None else io.BytesIO(self.body)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def int_param(self, name: str) -> int:
        """A numeric path parameter (the router only matches digits for it)."""
        return int(self.params[name])


@dataclass
class Response:
    """Status, headers and a body that is bytes, an open binary file or an iterator of bytes.

    For a file or an iterator, `length` is the number of bytes to send (None: unknown, chunked).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""
    length: int | None = None

    def content_length(self) -> int | None:
        if isinstance(self.body, bytes | bytearray):
            return len(self.body)
        return self.length

    def close(self) -> None:
        """Release a file or generator body that will not be sent (HEAD, errors)."""
        close = getattr(self.body, "close", None)
        if close is not None and not isinstance(self.body, bytes | bytearray):
            close()


# --- JSON ------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """UTC `YYYY-MM-DDTHH:MM:SSZ`; naive datetimes are taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_jsonable(value: Any) -> Any:
    """The one serialiser for views: dataclasses, datetimes, paths, enums, containers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


def empty_response(status: int = 204) -> Response:
    return Response(status, {}, b"")


@dataclass(frozen=True)
class ErrorDetail:
    code: str  # stable: clients (the UI's i18n/errors.ts) map it to text
    message: str  # English, for people and logs
    fields: dict[str, str]  # input field -> what is wrong with it


@dataclass(frozen=True)
class ErrorBody:
    """Every error answer: {"error": {"code", "message", "fields"}} (schema "Error")."""

    error: ErrorDetail


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> ErrorBody:
    return ErrorBody(ErrorDetail(code, message, dict(fields or {})))


def error_response(exc: BaseException) -> Response:
    """Map an exception through the table; anything unknown is logged and becomes a bare 500."""
    known = status_for(exc)
    if known is None:
        log.error("unexpected error", exc_info=exc)
        return json_response(500, error_body("internal", "internal server error"))
    status, code = known
    assert isinstance(exc, DumperError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized) and exc.challenge:
        headers["WWW-Authenticate"] = 'Basic realm="dumper", charset="UTF-8"'
    elif isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    elif isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.size}"
    return json_response(status, error_body(code, exc.message, exc.fields), headers)


def parse_json(request: Request, max_bytes: int, *, required: bool = True) -> Any:
    """The request body as JSON: 413 above max_bytes, 400 when not JSON or malformed.

    An empty body is None when not `required`.
    """
    declared = request.content_length or 0
    if declared > max_bytes or len(request.body) > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    if not request.body:
        if required:
            raise BadRequest("a JSON body is required")
        return None
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != JSON_TYPE:
        raise BadRequest("Content-Type must be application/json")
    try:
        value = json.loads(request.body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_json(value, 0)
    return value


# Our bodies are objects of scalars and short lists; deeper ones are hostile or a mistake.
MAX_JSON_DEPTH = 16


def _check_json(value: Any, depth: int) -> None:
    """Refuse nesting beyond MAX_JSON_DEPTH and strings no UTF-8 encoder can store."""
    if depth > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # "\ud800": a lone surrogate, valid JSON escape but no character
            raise BadRequest("malformed JSON: a string holds a lone surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_object(request: Request, max_bytes: int, *, required: bool = True) -> dict[str, Any]:
    """Like parse_json but the body must be a JSON object; no body is {} when not required."""
    value = parse_json(request, max_bytes, required=required)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


# --- routes ----------------------------------------------------------------------------------

Handler = Callable[[Request], Response]
_PARAM = re.compile(r"^:([a-z_][a-z0-9_]*)$")
# Path parameters are database ids: digits only, at most 18 so they fit a signed 64-bit int.
_PARAM_REGEX = r"(?P<{name}>[0-9]{{1,18}})"


@dataclass(frozen=True)
class Route:
    """One row of the route table; the OpenAPI fields describe it in /api/openapi.json."""

    method: str
    pattern: str
    handler: Handler
    summary: str
    tag: str = "system"
    request_schema: str | None = None  # a component name
    responses: Mapping[int, str | None] = field(default_factory=dict)  # status -> schema
    query: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # name -> schema
    content_types: tuple[str, ...] = (JSON_TYPE,)  # of the success response
    public: bool = False  # answers without credentials (the health probes only)
    # an upload: the raw body (application/octet-stream) as a stream of at most this many bytes
    stream_limit: int | None = None
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = []
        for segment in self.pattern.strip("/").split("/"):
            m = _PARAM.match(segment)
            parts.append(_PARAM_REGEX.format(name=m.group(1)) if m else re.escape(segment))
        object.__setattr__(self, "regex", re.compile("/" + "/".join(parts)))

    @property
    def takes_body(self) -> bool:
        """Only routes with a request schema read a body; the server never reads one for others."""
        return self.request_schema is not None

    @property
    def param_names(self) -> list[str]:
        return [s[1:] for s in self.pattern.split("/") if _PARAM.match(s)]

    @property
    def openapi_path(self) -> str:
        return re.sub(r":([a-z_][a-z0-9_]*)", r"{\1}", self.pattern)


class Router:
    """The route table: add routes, then match (method, path) to a route and its parameters."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, summary: str, **meta: Any) -> None:
        route = Route(method.upper(), pattern, handler, summary, **meta)
        if any(r.method == route.method and r.pattern == pattern for r in self.routes):
            raise ValueError(f"duplicate route {method} {pattern}")
        self.routes.append(route)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for method and path; None when no pattern matches the path.

        Raises MethodNotAllowed when the path exists under other methods. HEAD uses GET's route.
        """
        method = method.upper()
        allowed: set[str] = set()
        fallback: tuple[Route, dict[str, str]] | None = None
        for route in self.routes:
            # fullmatch: `$` would also match before a trailing newline (/metrics\n)
            m = route.regex.fullmatch(path)
            if m is None:
                continue
            allowed.add(route.method)
            if route.method == method:
                return route, m.groupdict()
            if method == "HEAD" and route.method == "GET":
                fallback = (route, m.groupdict())
        if fallback is not None:
            return fallback
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            raise MethodNotAllowed(f"{method} is not allowed here", allowed=allowed)
        return None

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)
