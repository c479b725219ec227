"""The GitHub workflow publishes an image only after every test job passed, for both platforms.

Read from .github/workflows/docker.yml (actionlint checks its syntax in `make lint`); these check
what it promises: triggers, the server matrix, the coverage gate, and the order of test and build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "docker.yml").read_text()
    )
    return data


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_workflow_runs_on_pushes_to_main_and_version_tags_only(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the key `on` as True (YAML 1.1)
    triggers = workflow.get("on", workflow.get(True))
    assert triggers == {"push": {"branches": ["main"], "tags": ["v*"]}}


def test_image_is_built_only_after_every_test_job(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    builders = [name for name, job in jobs.items() if "docker/build-push-action" in steps_text(job)]
    assert builders == ["image"]
    test_jobs = set(jobs) - {"image"}
    assert set(jobs["image"]["needs"]) == test_jobs
    # no `if: always()` or similar that would build after a failed test
    assert "if" not in jobs["image"]
    for name in test_jobs:
        assert "docker/" not in steps_text(jobs[name]), f"{name} must not build or push"


def test_integration_matrix_covers_the_four_supported_servers(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["integration"]
    images = sorted(entry["image"] for entry in job["strategy"]["matrix"]["include"])
    assert images == ["mariadb:10.11", "mariadb:11.4", "mysql:8.0", "mysql:8.4"]
    assert job["services"]["db"]["image"] == "${{ matrix.image }}"
    dsn = job["env"]["DUMPER_TEST_DSN"]
    assert re.fullmatch(r"mysql://root:root@127\.0\.0\.1:3306/test", dsn)
    assert job["services"]["db"]["env"]["MYSQL_ROOT_PASSWORD"] == "root"


def test_integration_job_enforces_the_coverage_gate(workflow: dict[Any, Any]) -> None:
    assert "make test test-int" in steps_text(workflow["jobs"]["integration"])
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest-int:") :].split("\n\n")[0]
    assert "--cov-fail-under=80" in recipe and "--cov-append" in recipe


def test_ui_and_e2e_jobs_run_the_npm_suites(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    assert "npm run test:coverage" in steps_text(jobs["ui"])
    e2e = steps_text(jobs["e2e"])
    assert e2e.index("npx playwright install --with-deps chromium") < e2e.index("make test-e2e")
    assert "lint" in steps_text(jobs["lint-unit"]) and "make test" in steps_text(jobs["lint-unit"])


def test_image_is_pushed_for_amd64_and_arm64_with_latest_sha_and_tag(
    workflow: dict[Any, Any],
) -> None:
    steps = workflow["jobs"]["image"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    for action in (
        "docker/setup-qemu-action",
        "docker/setup-buildx-action",
        "docker/login-action",
        "docker/metadata-action",
        "docker/build-push-action",
    ):
        assert action in uses
    # every action is pinned to an exact release
    for step in steps:
        if "uses" in step:
            assert re.search(r"@v\d+\.\d+\.\d+$", step["uses"]), step["uses"]
    login = next(s for s in steps if s.get("uses", "").startswith("docker/login-action"))
    assert login["with"]["registry"] == "ghcr.io"
    meta = next(s for s in steps if s.get("uses", "").startswith("docker/metadata-action"))
    tags = meta["with"]["tags"]
    assert "type=raw,value=latest" in tags
    assert "type=sha,format=short" in tags
    assert "type=ref,event=tag" in tags
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] is True
    assert workflow["jobs"]["image"]["permissions"]["packages"] == "write"
