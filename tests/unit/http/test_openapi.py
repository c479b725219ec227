"""/api/openapi.json: valid OpenAPI 3.1 that describes every route of the route table."""

from __future__ import annotations

import json
from typing import Any, cast

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from dumper.http.auth import needs_auth
from dumper.http.dispatch import Dispatcher
from dumper.http.handlers import AppFacade, build_router
from dumper.http.openapi import SCHEMAS, build_spec
from dumper.http.router import Request, Router


@pytest.fixture
def router() -> Router:
    # Building the table calls nothing on the app; no handler runs in these tests.
    return build_router(cast(AppFacade, object()))


@pytest.fixture
def spec(router: Router) -> dict[str, Any]:
    response = Dispatcher(router)(Request("GET", "/api/openapi.json"))
    assert response.status == 200
    return json.loads(response.body)  # type: ignore[arg-type,no-any-return]


def test_spec_is_valid_openapi_3_1(spec: dict[str, Any], router: Router) -> None:
    assert spec == json.loads(json.dumps(build_spec(router)))
    assert spec["openapi"].startswith("3.1")
    OPENAPI_31_VALIDATOR.validate(spec)


def test_every_route_in_the_table_is_described(router: Router, spec: dict[str, Any]) -> None:
    described = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    table = {(route.method, route.openapi_path) for route in router}
    assert described == table
    for route in router:
        op = spec["paths"][route.openapi_path][route.method.lower()]
        assert op["summary"], route
        assert any(s.startswith("2") for s in op["responses"]), f"{route} has no success response"
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(route.param_names)


def test_every_protected_route_declares_basic_auth(router: Router, spec: dict[str, Any]) -> None:
    for route in router:
        op = spec["paths"][route.openapi_path][route.method.lower()]
        assert ("security" in op) is needs_auth(route.pattern), route
        if needs_auth(route.pattern) and route.method != "HEAD":
            assert "401" in op["responses"], route


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_component_schemas_are_valid_json_schema(name: str, spec: dict[str, Any]) -> None:
    # Resolve $refs against the whole document so each component compiles on its own.
    schema = {"$defs": {}, **spec["components"]["schemas"][name]}
    text = json.dumps(schema).replace("#/components/schemas/", "#/$defs/")
    schema = json.loads(text)
    schema["$defs"] = json.loads(
        json.dumps(spec["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    )
    jsonschema_rs.Draft202012Validator(schema)


def test_target_schema_never_exposes_a_password(spec: dict[str, Any]) -> None:
    assert "password" not in spec["components"]["schemas"]["Target"]["properties"]


def test_links_point_to_operations_that_exist(spec: dict[str, Any]) -> None:
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    links = [
        link
        for ops in spec["paths"].values()
        for op in ops.values()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert links
    for link in links:
        assert link["operationId"] in ids
