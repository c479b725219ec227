"""The built single-page UI from WEB_DIR, in history mode: unknown paths get index.html.

Files are resolved under the web root and checked for containment; hashed assets are cached long.
"""

from __future__ import annotations

import re
from pathlib import Path

from dumper.errors import NotFound
from dumper.http.files import file_response
from dumper.http.router import Request, Response

# Vite names built assets name-HASH.ext (8+ chars of [A-Za-z0-9_-]); their content never changes.
_HASHED = re.compile(r"[.-][A-Za-z0-9_-]{8,}\.[a-z0-9]+$")
LONG_CACHE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"


class StaticFiles:
    """Serves files under `root`; GET/HEAD of anything that is not a file returns index.html,
    except under /assets/ where a missing file is a 404 (a browser must not run HTML as JS)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def __call__(self, request: Request) -> Response:
        target = self._resolve(request.path)
        if target is None:
            if request.path.startswith("/assets/"):
                raise NotFound("no such file")
            target = self.root / "index.html"
            if not target.is_file():
                raise NotFound("the web UI is not built (no index.html in WEB_DIR)")
        return self._file(target, request)

    def _resolve(self, url_path: str) -> Path | None:
        if "\x00" in url_path:
            return None
        relative = url_path.lstrip("/")
        if not relative:
            return None
        try:
            candidate = (self.root / relative).resolve()
            # resolve() follows symlinks and `..`; anything that lands outside the root is refused.
            if not candidate.is_relative_to(self.root) or not candidate.is_file():
                return None
        except (OSError, ValueError):  # a name over 255 bytes, a path the OS refuses
            return None
        return candidate

    def _file(self, path: Path, request: Request) -> Response:
        hashed = _HASHED.search(path.name) and path.name != "index.html"
        # "no-cache" files are revalidated on every load: the ETag makes that a cheap 304.
        return file_response(path, request, cache_control=LONG_CACHE if hashed else NO_CACHE)
