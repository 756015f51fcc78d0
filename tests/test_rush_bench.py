"""bench/bench_rush.py still runs and its checks hold, in miniature: SQLite, one gunicorn worker, 20
clients for 2 seconds and a 40-seat sell-out (~12 s). Correctness only; the figures are bench/README.md's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_rush_bench_sells_every_seat_once_and_loses_no_booking(tmp_path):
    output = tmp_path / "rush.json"
    command = [
        sys.executable, str(ROOT / "bench" / "bench_rush.py"), "--database", "sqlite", "--quick",
        "--clients", "20", "--duration", "2", "--sellout-seats", "40", "--output", str(output),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = json.loads(output.read_text())["runs"]

    closed = run["closed"]
    assert closed["confirmed"] > 0 and closed["errors"] == {}
    assert set(closed["statuses"]) == {"201"}  # 30,000 seats: nobody is refused
    check = closed["check"]
    assert check["oversold"] == 0 and check["lost"] == 0 and check["seat_mismatch"] == 0
    assert check["bookings_in_db"] == check["bookings_announced"] == closed["confirmed"]
    assert check["seats_taken"] == check["sum_announced_party_sizes"]

    sold = run["sellout"]["check"]
    assert sold["seats_left"] == 0 and sold["seats_taken"] == 40  # exactly full, never over
    assert sold["oversold"] == 0 and sold["lost"] == 0 and sold["seat_mismatch"] == 0
    assert run["sellout"]["statuses"]["409 slot_full"] == 20  # each client stopped on "full"
    assert run["ping"]["statuses"] == {"200": run["ping"]["statuses"]["200"]}
