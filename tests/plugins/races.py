"""Test helpers: races. `race(n, request)` starts n calls at once (threads behind a barrier), for the
concurrency tests that run with real commits (`committed_db`)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def race(n: int, request: Callable[[int], object]) -> list:
    """Run request(i) for i in range(n) in n threads released together; their answers, in order."""
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        answers[i] = request(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers
