from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from serving.batcher import Batcher, Computed, Pending
from serving.config import BatchingConfig
from serving.errors import DeadlineExceededError, PredictionError, QueueFullError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Doubler:
    """A model: ``double`` = 2·x, ``total`` = row sums; refuses rows holding NaN."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.computed: list[tuple[str, ...]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        self.gate.wait(timeout=10)
        self.batches.append(len(features))
        self.computed.append(outputs)
        if np.isnan(features).any():
            raise PredictionError("rows with NaN are refused")
        result = {"double": features * 2, "total": features.sum(axis=1)}
        return {name: result[name] for name in outputs}


def pending(
    rows: NDArray[Any], *, outputs: tuple[str, ...] = ("double",), timeout: float = 10
) -> Pending:
    now = time.perf_counter()
    return Pending(
        request_id=f"r{id(rows)}",
        features=rows,
        outputs=outputs,
        received_at=time.time(),
        arrived=now,
        deadline=now + timeout,
        future=asyncio.get_running_loop().create_future(),
    )


async def started(model: Doubler, *, hooks: list[Any] | None = None, **config: Any) -> Batcher:
    def on_batch(batch: list[Pending], computed: Computed, seconds: float) -> None:
        if hooks is not None:
            hooks.append((len(batch), computed.outputs is not None))

    batcher = Batcher(model, BatchingConfig(**config), on_batch=on_batch, name="t")
    batcher.start()
    return batcher


async def until_blocked(model: Doubler) -> None:
    for _ in range(200):
        if model.batches or not model.gate.is_set():
            await asyncio.sleep(0.01)
            return
        await asyncio.sleep(0.005)


async def test_an_idle_model_answers_at_once_even_with_a_long_batch_delay() -> None:
    model = Doubler()
    batcher = await started(model, max_batch_delay_ms=60_000)
    result = await asyncio.wait_for(batcher.submit(pending(np.ones((1, 2)))), timeout=5)
    np.testing.assert_array_equal(result["double"], [[2.0, 2.0]])
    await batcher.close()


async def test_requests_queued_while_the_model_works_form_the_next_batch() -> None:
    model = Doubler()
    model.gate.clear()
    hooks: list[Any] = []
    batcher = await started(model, hooks=hooks, max_batch_delay_ms=0)
    first = asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1)))))
    await asyncio.sleep(0.05)  # the first batch is now running, blocked on the gate
    rows = [np.full((1, 1), float(i)) for i in range(9)]
    rest = [asyncio.ensure_future(batcher.submit(pending(r))) for r in rows]
    await asyncio.sleep(0.01)
    assert batcher.depth == 9
    model.gate.set()
    results = await asyncio.gather(first, *rest)
    assert model.batches == [1, 9]
    assert [float(r["double"][0, 0]) for r in results[1:]] == [2.0 * i for i in range(9)]
    assert hooks == [(1, True), (9, True)]
    await batcher.close()


async def test_batches_never_exceed_max_batch_size_rows() -> None:
    model = Doubler()
    model.gate.clear()
    batcher = await started(model, max_batch_size=4, max_batch_delay_ms=0)
    first = asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1)))))
    await asyncio.sleep(0.05)
    sizes = [1, 2, 2, 3, 1, 6]
    rest = [asyncio.ensure_future(batcher.submit(pending(np.zeros((n, 1))))) for n in sizes]
    await asyncio.sleep(0.01)
    model.gate.set()
    await asyncio.gather(first, *rest)
    assert model.batches == [1, 3, 2, 4, 6]  # [1] [1+2] [2] [3+1] [6]: a 6-row request alone
    await batcher.close()


async def test_a_full_queue_refuses_instead_of_growing() -> None:
    model = Doubler()
    model.gate.clear()
    batcher = await started(model, max_queue_size=2)
    running = asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1)))))
    await asyncio.sleep(0.05)
    queued = [asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1))))) for _ in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(QueueFullError, match="queue is full"):
        await batcher.submit(pending(np.zeros((1, 1))))
    model.gate.set()
    await asyncio.gather(running, *queued)
    await batcher.close()


async def test_a_request_past_its_deadline_is_answered_504_and_never_computed() -> None:
    model = Doubler()
    model.gate.clear()
    batcher = await started(model)
    running = asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1)))))
    await asyncio.sleep(0.05)
    with pytest.raises(DeadlineExceededError, match="missed its deadline"):
        await batcher.submit(pending(np.zeros((5, 1)), timeout=0.05))
    model.gate.set()
    await running
    await batcher.close()
    assert model.batches == [1]


async def test_one_refused_request_does_not_fail_its_batch_neighbours() -> None:
    model = Doubler()
    model.gate.clear()
    hooks: list[Any] = []
    batcher = await started(model, hooks=hooks)
    running = asyncio.ensure_future(batcher.submit(pending(np.zeros((1, 1)))))
    await asyncio.sleep(0.05)
    good = asyncio.ensure_future(batcher.submit(pending(np.ones((2, 1)))))
    bad = asyncio.ensure_future(batcher.submit(pending(np.full((1, 1), np.nan))))
    also_good = asyncio.ensure_future(batcher.submit(pending(np.full((1, 1), 3.0))))
    await asyncio.sleep(0.01)
    model.gate.set()
    await running
    np.testing.assert_array_equal((await good)["double"], [[2.0], [2.0]])
    np.testing.assert_array_equal((await also_good)["double"], [[6.0]])
    with pytest.raises(PredictionError, match="NaN"):
        await bad
    assert model.batches == [1, 4, 2, 1, 1]  # the batch of three, then each alone
    assert hooks[-1] == (3, False)
    await batcher.close()


async def test_outputs_are_split_per_request_and_role_outputs_always_computed() -> None:
    model = Doubler()
    batcher = Batcher(
        model,
        BatchingConfig(),
        on_batch=lambda *_: None,
        name="t",
        always_compute=("total",),
    )
    batcher.start()
    result = await batcher.submit(pending(np.array([[1.0, 2.0]])))
    assert set(result) == {"double"}
    assert model.computed == [("double", "total")]
    await batcher.close()


async def test_close_finishes_queued_requests_then_refuses_new_ones() -> None:
    model = Doubler()
    model.gate.clear()
    batcher = await started(model)
    queued = [asyncio.ensure_future(batcher.submit(pending(np.ones((1, 1))))) for _ in range(5)]
    await asyncio.sleep(0.01)
    closing = asyncio.ensure_future(batcher.close())
    await asyncio.sleep(0.01)
    with pytest.raises(QueueFullError, match="being unloaded"):
        await batcher.submit(pending(np.ones((1, 1))))
    model.gate.set()
    results = await asyncio.gather(*queued)
    await closing
    assert len(results) == 5
    assert sum(model.batches) == 5
