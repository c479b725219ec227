"""Router, Request/Response values, JSON parsing and the one error->status table."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dumper import errors
from dumper.http.router import (
    ERROR_TABLE,
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    Request,
    Response,
    Router,
    error_response,
    json_response,
    parse_json,
    parse_json_object,
    to_jsonable,
)


def _ok(request: Request) -> Response:
    return json_response(200, {"params": request.params})


def _router() -> Router:
    r = Router()
    r.add("GET", "/api/targets", _ok, "list")
    r.add("POST", "/api/targets/test", _ok, "test")
    r.add("GET", "/api/targets/:id", _ok, "get")
    r.add("PUT", "/api/targets/:id", _ok, "put")
    r.add("GET", "/api/backups/:id/download", _ok, "download")
    return r


def test_router_extracts_numeric_path_parameters() -> None:
    route, params = _router().match("GET", "/api/targets/42") or (None, None)
    assert route is not None and route.summary == "get"
    assert params == {"id": "42"}


def test_router_does_not_take_a_word_for_an_id() -> None:
    r = _router()
    assert r.match("GET", "/api/targets/abc") is None
    assert r.match("GET", "/api/targets/-1") is None
    assert r.match("GET", "/api/targets/1" + "0" * 18) is None
    route, _ = r.match("POST", "/api/targets/test") or (None, None)
    assert route is not None and route.summary == "test"


def test_router_raises_405_with_allowed_methods_for_a_known_path() -> None:
    with pytest.raises(MethodNotAllowed) as info:
        _router().match("DELETE", "/api/targets/1")
    assert info.value.allowed == ["GET", "HEAD", "PUT"]


def test_router_answers_head_with_the_get_route() -> None:
    route, params = _router().match("HEAD", "/api/backups/3/download") or (None, None)
    assert route is not None and route.method == "GET" and params == {"id": "3"}


def test_router_refuses_duplicate_routes() -> None:
    r = _router()
    with pytest.raises(ValueError, match="duplicate"):
        r.add("GET", "/api/targets/:id", _ok, "again")


def test_router_no_match_for_unknown_or_partial_paths() -> None:
    r = _router()
    assert r.match("GET", "/api/targets/1/extra") is None
    assert r.match("GET", "/api/target") is None


def test_route_openapi_path_uses_braces() -> None:
    route = next(r for r in _router() if r.summary == "download")
    assert route.openapi_path == "/api/backups/{id}/download"
    assert route.param_names == ["id"]


def test_request_normalises_method_and_header_case() -> None:
    req = Request("get", "/x", headers={"Content-Type": "application/json"}, body=b"{}")
    assert req.method == "GET"
    assert req.header("CONTENT-TYPE") == "application/json"
    assert req.content_length == 2


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.InvalidInput("bad", fields={"name": "too long"}), 422, "invalid_input"),
        (errors.ConfirmationRequired("type the name"), 400, "confirmation_required"),
        (BadRequest("malformed"), 400, "bad_request"),
        (errors.NotFound("gone"), 404, "not_found"),
        (errors.Conflict("busy"), 409, "conflict"),
        (errors.DecryptionError("key changed"), 409, "decryption_failed"),
        (errors.ConnectionFailed("refused"), 502, "connection_failed"),
        (errors.BackupCorrupt("truncated"), 422, "backup_corrupt"),
        (errors.StorageFull("no room left"), 507, "storage_full"),
        (PayloadTooLarge("big"), 413, "payload_too_large"),
    ],
)
def test_error_table_maps_typed_errors_to_status_and_code(
    exc: errors.DumperError, status: int, code: str
) -> None:
    response = error_response(exc)
    assert response.status == status
    body = json.loads(response.body)  # type: ignore[arg-type]
    assert body == {"error": {"code": code, "message": exc.message, "fields": exc.fields}}


def test_error_table_lists_subclasses_before_their_bases() -> None:
    classes = [cls for cls, _, _ in ERROR_TABLE]
    for i, cls in enumerate(classes):
        for later in classes[i + 1 :]:
            assert not issubclass(later, cls), f"{later.__name__} is shadowed by {cls.__name__}"


def test_unexpected_error_is_a_generic_500_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = error_response(RuntimeError("secret path /etc/shadow"))
    assert response.status == 500
    assert b"shadow" not in response.body  # type: ignore[operator]
    assert json.loads(response.body)["error"]["code"] == "internal"  # type: ignore[arg-type]
    assert "secret path" in caplog.text  # the traceback goes to the log only


def _json_request(body: bytes, ctype: str = "application/json") -> Request:
    return Request("POST", "/api/targets", headers={"Content-Type": ctype}, body=body)


def test_parse_json_accepts_json_with_charset() -> None:
    req = _json_request(b'{"a": 1}', "application/json; charset=utf-8")
    assert parse_json(req, 100) == {"a": 1}


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe", b'{"a": NaN}', b"Infinity"])
def test_parse_json_rejects_malformed_json_with_400(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json(_json_request(body), 100)


def test_parse_json_rejects_other_content_types() -> None:
    with pytest.raises(BadRequest, match="Content-Type"):
        parse_json(_json_request(b"{}", "text/plain"), 100)


def test_parse_json_rejects_bodies_over_the_limit_with_413() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json(_json_request(b'{"a": "' + b"x" * 200 + b'"}'), 100)
    # The server does not read a huge body at all; the declared length is enough.
    huge = Request("POST", "/x", body=b"", content_length=10**9)
    with pytest.raises(PayloadTooLarge):
        parse_json(huge, 100)


def test_parse_json_object_requires_an_object_and_allows_optional_empty_body() -> None:
    with pytest.raises(BadRequest, match="object"):
        parse_json_object(_json_request(b"[1, 2]"), 100)
    with pytest.raises(BadRequest, match="required"):
        parse_json_object(_json_request(b""), 100)
    assert parse_json_object(_json_request(b""), 100, required=False) == {}


class _Kind(enum.Enum):
    BACKUP = "backup"


@dataclasses.dataclass
class _View:
    id: int
    at: datetime
    kind: _Kind
    file: Path
    nested: list[dict[str, object]]
    none: None = None


def test_to_jsonable_serialises_views_with_utc_z_times() -> None:
    cest = timezone(timedelta(hours=2))
    view = _View(
        1,
        datetime(2026, 11, 26, 5, 0, 1, 999, tzinfo=cest),
        _Kind.BACKUP,
        Path("/a"),
        [{"t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}],
    )
    assert to_jsonable(view) == {
        "id": 1,
        "at": "2026-11-26T03:00:01Z",
        "kind": "backup",
        "file": "/a",
        "nested": [{"t": "2026-01-02T03:04:05Z"}],
        "none": None,
    }


def test_to_jsonable_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        to_jsonable(object())


def test_response_content_length_for_bytes_and_files(tmp_path: Path) -> None:
    assert Response(200, body=b"abc").content_length() == 3
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    handle = f.open("rb")
    resp = Response(200, body=handle, length=5)
    assert resp.content_length() == 5
    resp.close()
    assert handle.closed
