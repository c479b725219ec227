"""The UI's API types are generated from the OpenAPI document, and a stale copy fails the check."""

from __future__ import annotations

from pathlib import Path

from tools.apitypes import main, ts_type

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "web" / "app" / "src" / "services" / "api-types.ts"


def test_the_committed_types_match_the_server() -> None:
    assert main(["--check", str(COMMITTED)]) == 0


def test_a_stale_copy_fails_the_check(tmp_path: Path) -> None:
    stale = tmp_path / "api-types.ts"
    stale.write_text(COMMITTED.read_text().replace("file_name: string | null", "file_name: string"))
    assert main(["--check", str(stale)]) == 1
    assert main(["--check", str(tmp_path / "missing.ts")]) == 1
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_generated_types_follow_the_views() -> None:
    text = COMMITTED.read_text()
    assert "export interface Target {" in text
    assert "  file_name: string | null" in text  # nullable on the server, so in the UI too
    assert "export type Status = 'running' | 'success' | 'failed'" in text
    assert "  password?: string | null" in text  # optional input field


def test_schema_subset_to_typescript() -> None:
    assert ts_type({"type": ["integer", "null"]}) == "number | null"
    assert ts_type({"type": "array", "items": {"$ref": "#/components/schemas/Job"}}) == "Job[]"
    assert ts_type({"anyOf": [{"$ref": "#/x/A"}, {"type": "null"}]}) == "A | null"
    assert ts_type({"type": "object"}) == "Record<string, unknown>"
    assert ts_type({"enum": ["it's"]}) == "'it\\'s'"
