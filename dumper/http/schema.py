"""JSON Schemas made from the types that own the shapes: view dataclasses (responses) and input
field tables (requests). openapi.py publishes them; `make types` turns them into TypeScript.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from typing import Any, Literal, get_args, get_origin, get_type_hints

from dumper.inputs import Field

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
# One-line texts: no control characters and not only blanks (what inputs.Field(line=True) checks).
LINE_PATTERN = r"^[^\u0000-\u001f]*[^\s][^\u0000-\u001f]*$"
_PRIMITIVES: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


def component_name(cls: type) -> str:
    """TargetView -> Target: the API names a shape, not a Python class."""
    return cls.__name__.removesuffix("View")


class Components:
    """Collects the component schemas reachable from the types it is asked about."""

    def __init__(self, named_literals: dict[str, Any] | None = None) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        # Literal aliases (JobKind) lose their name at run time: match them by value
        self._named = dict(named_literals or {})

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def add_dataclass(self, cls: type, *, name: str | None = None) -> dict[str, Any]:
        """Register `cls` (and what it refers to); returns a $ref to it."""
        name = name or component_name(cls)
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder: a self-reference ends here
            hints = get_type_hints(cls)
            fields = dataclasses.fields(cls)
            self.schemas[name] = {
                "type": "object",
                "properties": {f.name: self.type_schema(hints[f.name]) for f in fields},
                "required": [f.name for f in fields],
            }
        return self.ref(name)

    def type_schema(self, tp: Any) -> dict[str, Any]:
        """The schema of one annotation."""
        for name, literal in self._named.items():
            if tp == literal:
                if name not in self.schemas:
                    self.schemas[name] = {"type": "string", "enum": list(get_args(literal))}
                return self.ref(name)
        origin = get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in get_args(tp) if a is not type(None)]
            nullable = len(options) < len(get_args(tp))
            parts = [self.type_schema(a) for a in options]
            schema = parts[0] if len(parts) == 1 else {"oneOf": parts}
            return _nullable(schema) if nullable else schema
        if origin is Literal:
            return {"type": "string", "enum": list(get_args(tp))}
        if origin is list:
            return {"type": "array", "items": self.type_schema(get_args(tp)[0])}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.type_schema(get_args(tp)[1])}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            name = tp.__name__
            if name not in self.schemas:
                self.schemas[name] = {"type": "string", "enum": [m.value for m in tp]}
            return self.ref(name)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.add_dataclass(tp)
        if tp is datetime:
            return {"type": "string", "pattern": TIME_PATTERN}
        if tp in _PRIMITIVES:
            return {"type": _PRIMITIVES[tp]}
        raise TypeError(f"no JSON schema for {tp!r}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" in schema and "$ref" not in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def input_schema(table: tuple[Field, ...], required: tuple[str, ...]) -> dict[str, Any]:
    """The request-body schema of an input field table (unknown fields are refused)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": {f.name: _field_schema(f) for f in table},
    }


def _field_schema(f: Field) -> dict[str, Any]:
    if f.kind == "strings":
        item: dict[str, Any] = {"type": "string"}
        if f.choices is not None:
            item["enum"] = list(f.choices)
        kind: Any = ["array", "null"] if f.nullable else "array"
        schema: dict[str, Any] = {"type": kind, "items": item, "uniqueItems": True}
        if f.low:
            schema["minItems"] = f.low
        if f.default is not None:
            schema["default"] = list(f.default)
        if f.description:
            schema["description"] = f.description
        return schema
    schema = {"type": [f.kind, "null"] if f.nullable else f.kind}
    if f.choices is not None:
        schema["enum"] = [*f.choices, None] if f.nullable else list(f.choices)
    length = f.kind == "string"
    if f.low is not None and (f.low > 0 or not length):
        schema["minLength" if length else "minimum"] = f.low
    if f.high is not None:
        schema["maxLength" if length else "maximum"] = f.high
    if f.pattern is not None:
        schema["pattern"] = f"^(?:{f.pattern})$"
    elif f.line:
        schema["pattern"] = LINE_PATTERN
    if f.default is not None:
        schema["default"] = f.default
    if f.write_only:
        schema["writeOnly"] = True
    if f.description:
        schema["description"] = f.description
    return schema
