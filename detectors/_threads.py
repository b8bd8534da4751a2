"""Column-parallel work on threads: numpy's sort and searchsorted release the GIL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["map_columns", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: Below this many values in all, a thread pool costs more than it saves.
_MIN_PARALLEL_VALUES = 200_000


def workers() -> int:
    """Threads to use: the CPUs this process may run on, at most 8."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    return max(1, min(8, available))


def map_columns(function: Callable[[T], R], items: Iterable[T], *, values: int) -> list[R]:
    """``[function(item) for item in items]``, on threads when ``values`` is large."""
    items = list(items)
    threads = workers()
    if threads == 1 or len(items) < 2 or values < _MIN_PARALLEL_VALUES:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(function, items))
