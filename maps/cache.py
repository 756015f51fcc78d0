"""A small in-process cache whose keys carry a fingerprint of the data read from the database.

Each process keeps its own copies, but a key includes e.g. COUNT(sites) and MAX(sites.updated_at): a change
made by any process changes the fingerprint, so no process serves stale data and nothing has to be told to
forget anything. Old entries simply age out (least recently used first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MAX_ENTRIES = 64

_entries: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


def cached(key: Hashable, build: Callable[[], Any]) -> Any:
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]
    value = build()
    with _lock:
        _entries[key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
