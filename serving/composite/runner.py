"""Answering a composite's requests by calling its members, as any client would.

A composite stands where a model version's batcher stands (:class:`CompositeRunner` has the
batcher's ``submit``/``start``/``close``/``depth``), so the inference service, both
transports, the repository and hot swap treat it like a model. Each member call goes
through the member's own batcher, at the member's default version: it batches with the
member's other traffic, is counted and tapped as the member's own request (same request
id), and a member deployed anew is used from the next call on. The composite as a whole is
then observed under its own name and version, its features and outputs.

A member's error ends the request with the same error class (a member's 503 or 504 stays
503 or 504, its 400 stays 400), its message prefixed with the member; a member that is no
longer deployed makes the composite unavailable (503).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from numpy.typing import NDArray

from serving.batcher import BatchDone, Computed, Outputs, Pending
from serving.composite.combine import Combiner, mean, vote
from serving.composite.model import CompositeModel
from serving.composite.plan import Call, Lookup, plan
from serving.config import ModelConfig
from serving.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    ModelNotReadyError,
    ModelOutputError,
    QueueFullError,
    RequestCancelledError,
    ServingError,
)
from serving.model import LoadedModel
from serving.runtimes.outputs import conform

__all__ = ["CompositeRunner", "Members", "Refused", "Resolve", "build_composite"]

logger = logging.getLogger(__name__)


class _Queue(Protocol):
    async def submit(self, pending: Pending) -> Outputs: ...


class _Target(Protocol):
    @property
    def model(self) -> LoadedModel: ...

    @property
    def batcher(self) -> _Queue: ...


Resolve = Callable[[str, str | None], _Target]
"""The deployment answering a model name (default version when None)."""


class Refused(Protocol):
    """Counts and taps a request refused before its batch (``Observer.refused``)."""

    def __call__(
        self,
        model: LoadedModel,
        *,
        request_id: str,
        features: NDArray[Any] | None,
        error: BaseException,
        received_at: float,
        arrived: float,
    ) -> None: ...


class Members:
    """Calls member models through their batchers, observing refusals as their own."""

    def __init__(self, resolve: Resolve, refused: Refused | None = None) -> None:
        self._resolve = resolve
        self._refused = refused

    async def call(
        self, call: Call, *, request_id: str, features: NDArray[Any], deadline: float
    ) -> Outputs:
        """The member's outputs ``call.outputs`` for ``features``."""
        try:
            deployment = self._resolve(call.model, None)
        except ModelNotFoundError as error:
            raise ModelNotReadyError(f"{call.what}: {error}") from None
        except ServingError as error:
            raise _within(call.what, error) from None
        model = deployment.model
        try:
            outputs = model.check_outputs(call.outputs)
        except InvalidRequestError as error:  # the member changed since it was planned
            raise ModelOutputError(f"{call.what}: {error}") from None
        pending = Pending(
            request_id=request_id,
            features=features,
            outputs=outputs,
            received_at=time.time(),
            arrived=time.perf_counter(),
            deadline=deadline,
            future=asyncio.get_running_loop().create_future(),
        )
        try:
            return await deployment.batcher.submit(pending)
        except ServingError as error:
            if not pending.observed:
                self._refuse(model, pending, error)
            raise _within(call.what, error) from error
        except asyncio.CancelledError:
            if not pending.observed:
                pending.abandoned = True
                self._refuse(model, pending, RequestCancelledError("the composite was cancelled"))
            raise

    def _refuse(self, model: LoadedModel, pending: Pending, error: BaseException) -> None:
        if self._refused is not None:
            self._refused(
                model,
                request_id=pending.request_id,
                features=pending.features,
                error=error,
                received_at=pending.received_at,
                arrived=pending.arrived,
            )


class CompositeRunner:
    """Runs one deployed composite's requests; observed by ``on_batch`` one at a time."""

    def __init__(self, model: CompositeModel, members: Members, *, on_batch: BatchDone) -> None:
        self._model = model
        self._plan = model.plan
        self._members = members
        self._on_batch = on_batch
        self._running = 0
        self._closing = False
        self._idle = asyncio.Event()

    @property
    def depth(self) -> int:
        """Requests being answered."""
        return self._running

    def start(self) -> None:
        """Nothing to start: members run the work."""

    async def submit(self, pending: Pending) -> Outputs:
        """Answer one request; raise the error a member (or the composite) ended it with."""
        if self._closing:
            raise QueueFullError("the composite version is being unloaded; retry")
        self._running += 1
        started = pending.dispatched = time.perf_counter()
        outputs: Outputs | None = None
        try:
            outputs = await self._answer(pending)
            pending.result = {name: outputs[name] for name in pending.outputs}
        except ServingError as error:
            pending.result = error
        finally:
            self._finished()
        try:
            self._on_batch(
                [pending], Computed(pending.features, outputs), time.perf_counter() - started
            )
        except Exception:  # process boundary: metrics or tap must not fail the request
            logger.exception("composite hook failed")
        if isinstance(pending.result, BaseException):
            raise pending.result
        return pending.result

    def _finished(self) -> None:
        self._running -= 1
        if self._closing and not self._running:
            self._idle.set()

    async def close(self) -> None:
        """Stop taking requests; wait for those being answered."""
        self._closing = True
        if self._running:
            await self._idle.wait()

    async def _answer(self, pending: Pending) -> Outputs:
        plan = self._plan
        if plan.combine is None:
            outputs: Mapping[str, NDArray[Any]] = {}
            for call in plan.calls:
                rows = call.feed.rows(pending.features, outputs)
                outputs = await self._call(call, pending, rows)
            return {name: outputs[source] for name, source in plan.outputs}
        answers = await asyncio.gather(
            *(self._call(c, pending, c.feed.rows(pending.features, {})) for c in plan.calls),
            return_exceptions=True,
        )
        for answer in answers:  # the first member (in declaration order) that failed
            if isinstance(answer, BaseException):
                raise answer
        return await self._combine(
            plan.combine, pending, [a for a in answers if isinstance(a, dict)]
        )

    async def _call(self, call: Call, pending: Pending, rows: NDArray[Any]) -> Outputs:
        return await self._members.call(
            call, request_id=pending.request_id, features=rows, deadline=pending.deadline
        )

    async def _combine(
        self, combine: Combiner, pending: Pending, answers: list[Outputs]
    ) -> Outputs:
        plan = self._plan
        rows = len(pending.features)
        combined = {}
        for (name, _), spec in zip(plan.outputs, plan.specs, strict=True):
            values = [answer[name] for answer in answers]
            try:
                if combine is mean or combine is vote:
                    value = combine(values)
                else:  # user code: off the event loop
                    value = await asyncio.to_thread(combine, values)
            except ServingError:
                raise
            except Exception as error:
                raise ModelOutputError(
                    f"ensemble {self._model.config.name!r}: combining {name!r} failed: {error}"
                ) from error
            combined[name] = conform(
                value, spec, rows, what=f"ensemble {self._model.config.name!r}"
            )
        return combined


def build_composite(
    config: ModelConfig,
    lookup: Lookup,
    members: Members,
    batch_hook: Callable[[LoadedModel], BatchDone],
) -> tuple[CompositeModel, CompositeRunner]:
    """Plan ``config`` against the deployed members and make its model and runner.

    Raises
    ------
    CompositeError
        When the composite does not fit its members.
    """
    model = CompositeModel(config, plan(config, lookup))
    return model, CompositeRunner(model, members, on_batch=batch_hook(model))


def _within(what: str, error: ServingError) -> ServingError:
    """``error`` again, its message prefixed with the member (same class, same status)."""
    try:
        return type(error)(f"{what}: {error}")
    except TypeError:
        return error
