"""The docs name every setting and every route: README's configuration table, docs/API.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest

from dumper.config import SETTINGS
from dumper.http.handlers import AppFacade, build_router

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("env", [s.env for s in SETTINGS])
def test_every_setting_is_in_the_readme_table(env: str) -> None:
    assert re.search(rf"^\| `{env}` \|", README, re.MULTILINE), env


@pytest.mark.parametrize(
    "method,pattern",
    [(r.method, r.pattern) for r in build_router(cast(AppFacade, object()))],
)
def test_every_route_is_in_the_api_docs(method: str, pattern: str) -> None:
    rows = [line for line in API.splitlines() if line.startswith("| ") and pattern in line]
    assert any(
        re.match(rf"\| [A-Z, ]*\b{method}\b[A-Z, ]* {re.escape(pattern)}(\[|\?| |$)", r)
        for r in rows
    ), (method, pattern)
