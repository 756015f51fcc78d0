"""The map bench runs on a few sites: correctness only (the figures at 10,000 sites are in bench/README)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
