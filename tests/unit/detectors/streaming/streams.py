"""The streams of ``statistics.md`` §7 and small helpers shared by the streaming tests."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
from numpy.typing import NDArray

from detectors.streaming import StreamingDetector

Stream = NDArray[np.float64]


@cache
def documented() -> dict[str, Stream]:
    """§7.2, river's docstring streams (Python ``random``): C, B and F."""
    c = random.Random(12345)
    b = random.Random(42)
    f = random.Random(42)
    return {
        "C": np.array(c.choices([0, 1], k=1000) + c.choices(range(4, 8), k=1000), float),
        "B": np.array(
            b.choices([0, 1], k=1000) + b.choices([0, 1], k=1000, weights=[0.3, 0.7]), float
        ),
        "F": np.array(
            f.choices([0, 1], k=250) + f.choices([0, 1], k=250, weights=[0.9, 0.1]), float
        ),
    }


@cache
def cross_check() -> dict[str, Stream]:
    """§7.3: one ``default_rng(20261124)``, drawn in this order."""
    rng = np.random.default_rng(20261124)
    g1 = np.concatenate([rng.normal(0, 1, 1000), rng.normal(1, 1, 1000)])
    g05 = np.concatenate([rng.normal(0, 1, 2000), rng.normal(0.5, 1, 2000)])
    e1 = np.concatenate([rng.binomial(1, 0.10, 2000), rng.binomial(1, 0.30, 2000)])
    e2 = np.concatenate([rng.binomial(1, 0.20, 5000), rng.binomial(1, 0.25, 5000)])
    n0 = rng.normal(0, 1, 20_000)
    ne = rng.binomial(1, 0.10, 20_000)
    return {
        "G1": g1,
        "G05": g05,
        "E1": e1.astype(float),
        "E2": e2.astype(float),
        "N0": n0,
        "NE": ne.astype(float),
    }


def stream(name: str) -> Stream:
    """A stream of §7.2 or §7.3 by name (read-only)."""
    found = {**documented(), **cross_check()}[name]
    found.flags.writeable = False
    return found


def one_by_one(detector: StreamingDetector, values: Stream) -> list[int]:
    """Indices at which repeated ``update`` calls detect."""
    return [i for i, value in enumerate(values.tolist()) if detector.update(value)]


def many(detector: StreamingDetector, values: Stream) -> list[int]:
    """Indices at which ``update_many`` detects."""
    return [int(i) for i in np.flatnonzero(detector.update_many(values))]
