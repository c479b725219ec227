"""Prometheus text rendering of the metrics view."""

from __future__ import annotations

import dataclasses

from dumper.http.metrics import render


@dataclasses.dataclass
class _Target:
    target: str
    last_success_timestamp_seconds: float | None
    backups: int
    failures_total: int


@dataclasses.dataclass
class _View:
    jobs_running: int
    jobs_max: int
    scheduler_up: bool
    targets: list[_Target]


def test_metrics_render_gauges_counters_and_per_target_labels() -> None:
    text = render(
        _View(1, 2, True, [_Target("shop", 1764126005.0, 3, 0), _Target('we"ird\\', None, 0, 2)])
    )
    lines = text.splitlines()
    assert "# TYPE dumper_jobs_running gauge" in lines
    assert "dumper_jobs_running 1" in lines
    assert "dumper_scheduler_up 1" in lines
    assert "# TYPE dumper_target_failures_total counter" in lines
    assert 'dumper_target_failures_total{target="shop"} 0' in lines
    assert 'dumper_target_failures_total{target="we\\"ird\\\\"} 2' in lines
    assert 'dumper_target_last_success_timestamp_seconds{target="shop"} 1764126005.0' in lines
    # A target that never succeeded has no sample rather than a fake 0.
    assert not any(
        line.startswith('dumper_target_last_success_timestamp_seconds{target="we') for line in lines
    )
    assert text.endswith("\n")
    # Each metric name has exactly one TYPE line.
    types = [line for line in lines if line.startswith("# TYPE")]
    assert len(types) == len(set(types))
