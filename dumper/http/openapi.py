"""OpenAPI 3.1 description built from the route table, so every route is described by construction.

The component schemas are generated from the view dataclasses and the input field tables
(schema.py); a schemathesis run checks responses against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import dumper
from dumper.encryption import KEY_FIELDS
from dumper.http.router import JSON_TYPE, ErrorBody, Route
from dumper.http.schema import Components, input_schema
from dumper.jobs import JobKind
from dumper.notify.channels import CHANNEL_FIELDS, CHANNEL_REQUIRED
from dumper.notify.service import ChannelTestReport, ChannelView, DeliveryView
from dumper.restores import RESTORE_FIELDS
from dumper.rotation import RetentionPreview
from dumper.targets import REQUIRED_FIELDS, TARGET_FIELDS
from dumper.tokens import TOKEN_FIELDS, TOKEN_REQUIRED, CreatedTokenView, TokenView
from dumper.uploads import ADOPT_FIELDS, ADOPT_REQUIRED
from dumper.views import (
    BackupContentsView,
    BackupView,
    ConnectionReport,
    HealthView,
    JobView,
    ReadinessView,
    RestoreView,
    SettingsView,
    TargetView,
)


def _components() -> dict[str, dict[str, Any]]:
    """Every component schema, generated from the classes and tables that own the shapes."""
    c = Components(named_literals={"JobKind": JobKind})
    for view in (
        TargetView,
        BackupView,
        RestoreView,
        BackupContentsView,
        JobView,
        SettingsView,
        HealthView,
        ReadinessView,
        TokenView,
        CreatedTokenView,
        ChannelView,
        ChannelTestReport,
        DeliveryView,
        RetentionPreview,
    ):
        c.add_dataclass(view)
    c.add_dataclass(ConnectionReport, name="ConnectionReport")  # the engine's probe result
    c.add_dataclass(ErrorBody, name="Error")
    c.schemas["TargetInput"] = input_schema(TARGET_FIELDS, REQUIRED_FIELDS)
    c.schemas["TokenInput"] = input_schema(TOKEN_FIELDS, TOKEN_REQUIRED)
    c.schemas["ChannelInput"] = input_schema(CHANNEL_FIELDS, CHANNEL_REQUIRED)
    c.schemas["RestoreRequest"] = input_schema(RESTORE_FIELDS, ())
    c.schemas["AdoptRequest"] = input_schema(ADOPT_FIELDS, ADOPT_REQUIRED)
    c.schemas["VerifyRequest"] = input_schema(KEY_FIELDS, ())
    return c.schemas


SCHEMAS: dict[str, dict[str, Any]] = _components()


def _schema_ref(name: str) -> dict[str, Any]:
    if name.endswith("[]"):
        return {"type": "array", "items": _schema_ref(name[:-2])}
    if name not in SCHEMAS:
        raise KeyError(f"no schema named {name}")
    return {"$ref": f"#/components/schemas/{name}"}


def operation_id(method: str, pattern: str) -> str:
    return f"{method.lower()}_" + re.sub(r"[^a-z0-9]+", "_", pattern.lower()).strip("_")


# OpenAPI links: what a created object's id leads to (clients and stateful fuzzing follow them).
# (method, pattern, status) -> link name -> (method, pattern, request body or None)
LINKS: dict[tuple[str, str, int], dict[str, tuple[str, str, Any]]] = {
    ("POST", "/api/targets", 201): {
        "GetTarget": ("GET", "/api/targets/:id", None),
        "StartBackup": ("POST", "/api/targets/:id/backup", None),
        "ListBackups": ("GET", "/api/targets/:id/backups", None),
    },
    ("POST", "/api/targets/:id/backup", 202): {
        "GetBackup": ("GET", "/api/backups/:id", None),
        "DownloadBackup": ("GET", "/api/backups/:id/download", None),
        "CancelBackup": ("POST", "/api/backups/:id/cancel", None),
        "RestoreBackup": (
            "POST",
            "/api/backups/:id/restore",
            {"confirm": "$response.body#/target_name"},
        ),
    },
    ("POST", "/api/targets/:id/uploads", 201): {
        "GetUploadedBackup": ("GET", "/api/backups/:id", None),
        "DownloadUploadedBackup": ("GET", "/api/backups/:id/download", None),
    },
    ("POST", "/api/backups/adopt", 201): {
        "GetAdoptedBackup": ("GET", "/api/backups/:id", None),
    },
    ("POST", "/api/backups/:id/restore", 202): {
        "GetRestore": ("GET", "/api/restores/:id", None),
        "CancelRestore": ("POST", "/api/restores/:id/cancel", None),
    },
}


UPLOAD_TYPE = "application/octet-stream"


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id(route.method, route.pattern),
        "summary": route.summary,
        "tags": [route.tag],
    }
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999},
        }
        for name in route.param_names
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in route.query.items()
    ]
    if params:
        op["parameters"] = params
    if route.request_schema:
        op["requestBody"] = {
            "required": route.request_schema not in ("RestoreRequest", "VerifyRequest"),
            "content": {JSON_TYPE: {"schema": _schema_ref(route.request_schema)}},
        }
    elif route.stream_limit is not None:
        op["requestBody"] = {
            "required": True,
            "description": f"the dump file itself, at most {route.stream_limit} bytes",
            "content": {UPLOAD_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    responses: dict[str, Any] = {}
    documented = dict(route.responses)
    # What the dispatcher answers before any route runs: a malformed request (control character
    # in the path, a Host outside ALLOWED_HOSTS, bad framing), and a cross-site state change.
    documented.setdefault(400, None if route.method == "HEAD" else "Error")
    if route.method not in ("GET", "HEAD", "OPTIONS"):
        documented.setdefault(403, "Error")
    for status, schema in sorted(documented.items()):
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, str(status))}
        if route.method != "HEAD" and status != 204:
            if schema is not None:
                types = (JSON_TYPE,) if schema == "Error" else route.content_types
                entry["content"] = {t: {"schema": _schema_ref(schema)} for t in types}
            elif status in (200, 206):
                entry["content"] = {t: {"schema": _raw_schema(t)} for t in route.content_types}
        links = LINKS.get((route.method, route.pattern, status))
        if links:
            entry["links"] = {
                name: {
                    "operationId": operation_id(method, pattern),
                    "parameters": {"id": "$response.body#/id"},
                    **({"requestBody": body} if body is not None else {}),
                }
                for name, (method, pattern, body) in links.items()
            }
        responses[str(status)] = entry
    op["responses"] = responses
    if not route.public:
        op["security"] = [{"basic": []}, {"bearer": []}]
    return op


def _raw_schema(content_type: str) -> dict[str, Any]:
    if content_type == JSON_TYPE:
        return {"type": "object"}
    if content_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: the job runs in the background",
    204: "Done, no content",
    206: "Partial content (Range)",
    400: "Bad request, or confirmation required",
    401: "Authentication required",
    403: "Forbidden: a cross-site request (see README, Security)",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    411: "Length required: send Content-Length",
    413: "Body too large",
    416: "Range not satisfiable",
    422: "Invalid input (see error.fields)",
    503: "Not ready",
}


def build_spec(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `routes`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dumper",
            "version": dumper.__version__,
            "description": "Backups and restores of MySQL and MariaDB databases.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token (POST /api/tokens); a read token: GET/HEAD only",
                },
            },
        },
    }
