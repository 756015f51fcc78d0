"""The statistics bench on 2,000 interventions: correctness only (the figures at 1,000,000 rows are in
bench/README.md). The bench itself checks that the endpoint and the hand-written SQL give the same rows and
totals before it times anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_stats.py"


def load_bench():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("bench_stats", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_agrees_with_sql_on_a_small_size(app, monkeypatch, tmp_path):
    bench = load_bench()
    monkeypatch.setattr(bench, "SCHOOLS", 300)
    monkeypatch.setattr(bench, "VOLUNTEERS", 100)
    results = bench.run(2_000, f"sqlite:///{tmp_path / 'bench.db'}", repeats=1)
    assert results["rows"] == 2_000 and results["links"] > 2_000
    assert [q["query"] for q in results["queries"]] == [label for label, _ in bench.QUERIES]
    for query in results["queries"]:
        assert query["groups"] > 1
        assert {"endpoint_s", "same_answer_sql_s", "bare_group_by_s", "endpoint_over_same_answer_sql",
                "endpoint_over_bare_group_by"} <= set(query)  # fmt: skip
