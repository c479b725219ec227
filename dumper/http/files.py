"""Serving a file: the one place for ETag/If-None-Match, Last-Modified, Range and attachments.

Downloads of backups and the static UI both answer through `file_response`; the body is the open
file, which the server copies in chunks, never whole into memory.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

from dumper.http.router import RangeNotSatisfiable, Request, Response

# mimetypes depends on the host's tables; these are the types a Vite build and a backup produce.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
    ".gz": "application/gzip",
    ".sql": "application/sql",
}
DOWNLOAD_TYPES = (
    "application/gzip",
    "application/sql",
    "application/x-tar",
    "application/octet-stream",
)
# At most 18 digits a side: a longer number is no file offset (and int() of 5,000 digits raises).
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(
    path: Path,
    request: Request,
    *,
    attachment: bool = False,
    cache_control: str | None = None,
) -> Response:
    """The file (200), its unchanged-since answer (304), or one byte range of it (206/416)."""
    handle = path.open("rb")
    try:
        stat = path.stat()
        size = stat.st_size
        etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
        headers = {
            "Content-Type": content_type(path) if not attachment else _download_type(path),
            "ETag": etag,
            "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
            "Accept-Ranges": "bytes",
        }
        if cache_control:
            headers["Cache-Control"] = cache_control
        if attachment:
            headers["Content-Disposition"] = content_disposition(path.name)
        if etag in (request.header("if-none-match") or "").replace(" ", "").split(","):
            handle.close()
            return Response(304, headers, b"")
        byte_range = _parse_range(request.header("range"), size, request.header("if-range"), etag)
        if byte_range is None:
            return Response(200, headers, handle, length=size)
        start, end = byte_range
        handle.seek(start)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(206, headers, handle, length=end - start + 1)
    except BaseException:
        handle.close()
        raise


def _download_type(path: Path) -> str:
    kind = content_type(path)
    return kind if kind in DOWNLOAD_TYPES else DOWNLOAD_TYPES[2]


def _parse_range(
    header: str | None, size: int, if_range: str | None, etag: str
) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable range; None for no or an ignorable header.

    Several ranges are answered with the whole file (allowed by RFC 9110, and cheap); so is a
    Range whose If-Range names another version of the file.
    """
    if not header or (if_range is not None and if_range.strip() != etag):
        return None
    m = _RANGE.match(header.strip().replace(" ", ""))
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable("range not satisfiable", size=size)
        return max(0, size - n), size - 1
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable("range not satisfiable", size=size)
    end = int(last) if last else size - 1
    if end < start:
        return None  # syntactically invalid: ignored, the whole file is sent
    return start, min(end, size - 1)


def archive_response(name: str, length: int, chunks: Iterator[bytes]) -> Response:
    """An attachment made while it is sent (a backup set as one tar): its exact length is
    known first, so it goes with Content-Length; no Range, no temporary copy."""
    headers = {
        "Content-Type": "application/x-tar",
        "Content-Disposition": content_disposition(name),
        "Cache-Control": "no-store",
    }
    return Response(200, headers, chunks, length)
