"""Input fields declared once: the table that validates a request body and that the OpenAPI
description (dumper/http/openapi.py) is generated from, so the two cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dumper.errors import InvalidInput

Kind = Literal["string", "integer", "boolean", "strings"]  # strings: a list of texts


@dataclass(frozen=True)
class Field:
    """One accepted field of a JSON body, with its rules and the messages that name them."""

    name: str
    kind: Kind
    default: Any = None
    low: int | None = None  # strings: shortest length; integers: smallest value
    high: int | None = None  # strings: longest length; integers: largest value
    line: bool = False  # a one-line text: no control characters, not only blanks
    nullable: bool = False
    pattern: str | None = None  # strings: the whole value must match
    pattern_message: str = "has the wrong format"
    write_only: bool = False
    description: str | None = None
    choices: tuple[str, ...] | None = None  # strings (and each item of a list): one of these

    def check(self, value: Any) -> str | None:
        """The message for a bad value, None for a good one."""
        if value is None and self.nullable:
            return None
        if self.kind == "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind == "integer":
            # bool is an int subclass; `true` for a port is a type error, not 1
            good = (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high)
            )
            return None if good else f"must be an integer from {self.low} to {self.high}"
        if self.kind == "strings":
            return self._check_list(value)
        return self._check_text(value)

    def _check_list(self, value: Any) -> str | None:
        # a tuple is a field's default; JSON gives lists
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return "must be a list of strings"
        if self.choices is not None and any(v not in self.choices for v in value):
            return "each must be one of: " + ", ".join(self.choices)
        if len(set(value)) != len(value):
            return "must not repeat a value"
        if self.low is not None and len(value) < self.low:
            return f"must have at least {self.low} item(s)"
        return None

    def _check_text(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return self.pattern_message if self.pattern is not None else "must be a string"
        low = self.low or 0
        if len(value) < low:
            return "must not be empty" if low == 1 else f"must have at least {low} characters"
        if self.high is not None and len(value) > self.high:
            return f"must be at most {self.high} characters"
        if self.line and low and not value.strip():
            return "must not be blank"
        if self.line and any(ord(c) < 32 for c in value):
            return "must not contain control characters"
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return self.pattern_message
        if self.choices is not None and value not in self.choices:
            return "must be one of: " + ", ".join(self.choices)
        return None


def validate_fields(
    table: tuple[Field, ...], data: Any, *, required: tuple[str, ...], what: str
) -> dict[str, Any]:
    """Every field's value (given or default); InvalidInput naming every bad field.

    Unknown fields and missing required ones are errors too; types are never coerced.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("expected a JSON object", fields={"body": "must be an object"})
    known = {f.name: f for f in table}
    errors: dict[str, str] = {}
    for key in data:
        if key not in known:
            errors[str(key)] = "unknown field"
    for key in required:
        if key not in data:
            errors[key] = "is required"
    values: dict[str, Any] = {}
    for f in table:
        value = data.get(f.name, f.default)
        if f.name in data or value is not None:
            message = f.check(value)
            if message is not None:
                errors.setdefault(f.name, message)
        values[f.name] = value
    if errors:
        raise InvalidInput(f"invalid {what}: " + ", ".join(sorted(errors)), fields=errors)
    return values
