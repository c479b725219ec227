"""Prometheus text exposition (format 0.0.4) of App.metrics().

Numbers at the top level of the view become `dumper_<name>`; each entry of its per-target list
becomes `dumper_target_<name>{target="..."}`. Names ending in `_total` are counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dumper.http.router import to_jsonable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_TARGET_LISTS = ("targets", "per_target")
_LABEL_KEYS = ("target", "target_name", "name")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


def _kind(name: str) -> str:
    return "counter" if name.endswith("_total") else "gauge"


def render(view: Any) -> str:
    """The metrics view as Prometheus text; None values are left out (no sample yet)."""
    data = to_jsonable(view)
    if not isinstance(data, Mapping):
        raise TypeError("metrics view must be an object")
    lines: list[str] = []
    for key, value in data.items():
        text = _number(value)
        if text is not None:
            name = f"dumper_{key}"
            lines += [f"# TYPE {name} {_kind(name)}", f"{name} {text}"]
    for list_key in _TARGET_LISTS:
        entries = data.get(list_key)
        if not isinstance(entries, list):
            continue
        series: dict[str, list[str]] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            label = next((str(entry[k]) for k in _LABEL_KEYS if k in entry), "")
            for key, value in entry.items():
                text = _number(value)
                if text is None or key in ("id", "target_id"):
                    continue
                series.setdefault(f"dumper_target_{key}", []).append(
                    f'dumper_target_{key}{{target="{_escape(label)}"}} {text}'
                )
        for name, samples in series.items():
            lines.append(f"# TYPE {name} {_kind(name)}")
            lines += samples
    return "\n".join(lines) + "\n"
