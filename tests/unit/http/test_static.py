"""The static UI through the dispatcher: history mode, MIME types, caching, containment, headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dumper.http.dispatch import Dispatcher
from dumper.http.router import Request, Response, Router
from dumper.http.static import LONG_CACHE, NO_CACHE, StaticFiles

INDEX = b"<!doctype html><div id=app></div>"


@pytest.fixture
def web(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-4f3a9B_c.js").write_bytes(b"console.log(1)")
    (root / "assets" / "index-Dx81kQ2p.css").write_bytes(b"body{}")
    (root / "assets" / "logo.svg").write_bytes(b"<svg/>")
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "secret.txt").write_bytes(b"outside the web root")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


def _get(web: Path, path: str, method: str = "GET") -> Response:
    dispatch = Dispatcher(Router(), static=StaticFiles(web))
    return dispatch(Request(method, path))


def _body(response: Response) -> bytes:
    body = response.body
    if isinstance(body, bytes):
        return body
    data = body.read()  # type: ignore[union-attr]
    response.close()
    return data  # type: ignore[no-any-return]


def test_root_serves_index_html_without_caching(web: Path) -> None:
    r = _get(web, "/")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == NO_CACHE
    assert r.headers["Content-Length"] == str(len(INDEX))
    assert _body(r) == INDEX


@pytest.mark.parametrize("path", ["/targets", "/targets/3/backups", "/settings?x=1"])
def test_history_mode_serves_index_for_client_routes(web: Path, path: str) -> None:
    r = _get(web, path)
    assert r.status == 200 and _body(r) == INDEX


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/assets/index-4f3a9B_c.js", "text/javascript; charset=utf-8"),
        ("/assets/index-Dx81kQ2p.css", "text/css; charset=utf-8"),
    ],
)
def test_hashed_assets_get_their_type_and_a_long_cache(web: Path, path: str, ctype: str) -> None:
    r = _get(web, path)
    assert r.status == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Cache-Control"] == LONG_CACHE
    _body(r)


def test_unhashed_files_are_revalidated(web: Path) -> None:
    r = _get(web, "/favicon.ico")
    assert r.headers["Content-Type"] == "image/x-icon"
    assert r.headers["Cache-Control"] == NO_CACHE
    r2 = _get(web, "/assets/logo.svg")
    assert r2.headers["Content-Type"] == "image/svg+xml"
    _body(r)
    _body(r2)


def test_a_missing_asset_is_404_not_index_html(web: Path) -> None:
    r = _get(web, "/assets/gone-12345678.js")
    assert r.status == 404
    assert json.loads(_body(r))["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    ["/../secret.txt", "/assets/../../secret.txt", "/link.txt", "/%2e%2e/secret.txt", "/a\x00b"],
)
def test_paths_outside_the_web_root_are_never_served(web: Path, path: str) -> None:
    r = _get(web, path)
    assert b"outside the web root" not in _body(r)


def test_head_has_length_but_no_body(web: Path) -> None:
    r = _get(web, "/", method="HEAD")
    assert r.status == 200
    assert r.headers["Content-Length"] == str(len(INDEX))
    assert r.body == b""


def test_non_get_methods_on_the_ui_are_405(web: Path) -> None:
    r = _get(web, "/targets", method="POST")
    assert r.status == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_security_headers_on_static_files(web: Path) -> None:
    r = _get(web, "/")
    _body(r)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "*" not in csp


def test_missing_build_says_so(tmp_path: Path) -> None:
    r = _get(tmp_path / "nothing", "/")
    assert r.status == 404
    assert "not built" in json.loads(_body(r))["error"]["message"]


def test_etag_revalidation_answers_304_without_a_body(web: Path) -> None:
    first = _get(web, "/")
    _body(first)
    etag = first.headers["ETag"]
    dispatch = Dispatcher(Router(), static=StaticFiles(web))
    again = dispatch(Request("GET", "/", headers={"If-None-Match": etag}))
    assert again.status == 304 and again.body == b""
    assert "Content-Length" not in again.headers
    (web / "index.html").write_bytes(INDEX + b"<!-- new build -->")
    changed = dispatch(Request("GET", "/", headers={"If-None-Match": etag}))
    assert changed.status == 200 and _body(changed).endswith(b"new build -->")


def test_a_download_and_a_static_file_share_etag_and_range(tmp_path: Path) -> None:
    from dumper.http.files import file_response

    f = tmp_path / "shop.sql.gz"
    f.write_bytes(b"0123456789")
    first = file_response(f, Request("GET", "/d"), attachment=True)
    first.close()
    etag = first.headers["ETag"]
    assert first.headers["Content-Disposition"].startswith("attachment;")
    assert first.headers["Content-Type"] == "application/gzip"
    again = file_response(f, Request("GET", "/d", headers={"If-None-Match": etag}), attachment=True)
    assert again.status == 304
    part = file_response(
        f, Request("GET", "/d", headers={"Range": "bytes=2-4", "If-Range": etag}), attachment=True
    )
    assert part.status == 206 and part.headers["Content-Range"] == "bytes 2-4/10"
    part.close()
    # If-Range of another version: the whole (new) file, not a piece of it
    stale = file_response(
        f,
        Request("GET", "/d", headers={"Range": "bytes=2-4", "If-Range": '"0-0"'}),
        attachment=True,
    )
    assert stale.status == 200
    stale.close()
    static = StaticFiles(tmp_path)(Request("GET", "/shop.sql.gz", headers={"Range": "bytes=0-0"}))
    assert static.status == 206 and static.headers["ETag"] == etag
    static.close()
