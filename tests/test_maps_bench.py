"""The map bench runs on a few sites: correctness only (the figures at 10,000 sites are in bench/README)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_maps.py"


def load_bench():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("bench_maps", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_draws_every_site_both_ways_on_a_small_size(app, monkeypatch):
    bench = load_bench()
    monkeypatch.setattr(bench, "REPEATS", 1)
    results = bench.run(25, browser=False)
    assert results["naive"]["markers"] == results["ours"]["markers"] == 25
    assert results["ours"]["page_and_data_bytes"] < results["naive"]["html_bytes"]
    assert set(results["ratios"]) == {
        "server_time_naive_over_ours_cold", "server_time_naive_over_ours_cached", "bytes_naive_over_ours",
    }  # fmt: skip


@pytest.mark.browser
def test_the_bench_draws_both_maps_in_chromium():
    """As bench/README.md runs it, in its own process (Playwright's sync API cannot share the test session's
    event loop). The naive page is a whole folium document of inline scripts under a bench-only policy; a
    script refused by a policy would fail the run at once instead of after the 300 s wait."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "--sites", "5"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    browser = json.loads(done.stdout)["browser"]
    assert set(browser) == {"ours", "naive"}
    assert all(measure["markers_drawn_ms"] > 0 for measure in browser.values())
