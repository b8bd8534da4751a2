"""The deployed models: load, version, hot-swap and unload without dropping requests.

Deploying a version loads its runtime off the event loop while the current version keeps
serving; only when the new one is ready does it become the default, and the versions it
replaces are drained (their queued and running requests finish) before they are closed. A
failed load leaves what was serving untouched and records the reason in the index.

While a new version loads, the model stays ``READY`` on the version it serves. Composites
(:mod:`serving.composite`) deploy the same way once their members are deployed; a member's
new version that no longer fits a composite using it is refused, and so is unloading a
member a composite still uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from serving.batcher import BatchDone, Batcher, Outputs, Pending
from serving.composite.config import CompositeError
from serving.composite.graph import check_members
from serving.composite.plan import plan
from serving.composite.runner import Members, Refused, build_composite
from serving.config import ModelConfig
from serving.errors import ModelNotFoundError, ModelNotReadyError
from serving.model import LoadedModel
from serving.runtimes.base import Runtime

__all__ = ["Deployment", "ModelRepository", "RequestQueue"]

logger = logging.getLogger(__name__)

RuntimeLoader = Callable[[ModelConfig], Runtime]
BatchHook = Callable[[LoadedModel], BatchDone]
"""Makes the function a model's batcher calls after each batch (metrics, tap)."""


class RequestQueue(Protocol):
    """Where a deployment's requests go: a model's :class:`~serving.batcher.Batcher`, or a
    composite's :class:`~serving.composite.runner.CompositeRunner`."""

    @property
    def depth(self) -> int: ...

    def start(self) -> None: ...

    async def submit(self, pending: Pending) -> Outputs: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True, eq=False)
class Deployment:
    """One model version that answers requests."""

    model: LoadedModel
    batcher: RequestQueue

    @property
    def name(self) -> str:
        return self.model.config.name

    @property
    def version(self) -> str:
        return self.model.config.version


class ModelRepository:
    """Every deployed model version, and the default version of each model."""

    def __init__(
        self,
        *,
        load_runtime: RuntimeLoader,
        batch_hook: BatchHook,
        refused: Refused | None = None,
    ) -> None:
        self._load_runtime = load_runtime
        self._batch_hook = batch_hook
        self._members = Members(self.resolve, refused)
        self._draining: list[Deployment] = []
        self._versions: dict[str, dict[str, Deployment]] = {}
        self._default: dict[str, str] = {}
        self._known: dict[str, ModelConfig] = {}
        self._state: dict[str, tuple[str, str]] = {}
        self._lock = asyncio.Lock()

    def declare(self, config: ModelConfig) -> None:
        """Make a model known (listed, loadable by name) without loading it."""
        self._known[config.name] = config
        self._state.setdefault(config.name, ("UNAVAILABLE", "not loaded"))

    def known(self, name: str) -> ModelConfig | None:
        """The last configuration deployed or declared under ``name``, if any."""
        return self._known.get(name)

    async def deploy(self, config: ModelConfig, *, replace: bool = True) -> Deployment:
        """Load ``config`` and make it the default version of its model.

        With ``replace`` the model's other versions are drained and unloaded afterwards;
        otherwise they stay addressable by version.
        """
        async with self._lock:
            self._known[config.name] = config
            serving = config.name in self._default
            loading = f"loading version {config.version}"
            self._state[config.name] = ("READY", loading) if serving else ("LOADING", loading)
            try:
                deployment = await self._load(config)
            except Exception as error:
                self._state[config.name] = ("READY" if serving else "UNAVAILABLE", str(error))
                raise
            deployment.batcher.start()
            versions = self._versions.setdefault(config.name, {})
            retired = list(versions.values()) if replace else []
            if not replace and config.version in versions:
                retired.append(versions[config.version])
            if replace:
                versions.clear()
            versions[config.version] = deployment
            self._default[config.name] = config.version
            self._state[config.name] = ("READY", "")
        await self._retire(retired)
        logger.info("deployed model %s version %s", config.name, config.version)
        return deployment

    async def undeploy(self, name: str, version: str | None = None) -> None:
        """Stop serving a model (every version, or one), finishing what is queued."""
        async with self._lock:
            versions = self._versions.get(name)
            if not versions or (version is not None and version not in versions):
                what = f"version {version!r} of model {name!r}" if version else f"model {name!r}"
                raise ModelNotFoundError(f"{what} is not deployed")
            if version is None or len(versions) == 1:
                self._check_unused(name)
            retired = [versions.pop(version)] if version else list(versions.values())
            if version is None:
                versions.clear()
            if versions:
                self._default[name] = next(reversed(versions))
            else:
                del self._versions[name]
                self._default.pop(name, None)
                self._state[name] = ("UNAVAILABLE", "unloaded")
        await self._retire(retired)

    def resolve(self, name: str, version: str | None = None) -> Deployment:
        """The deployment answering ``name`` (and ``version``, else the default)."""
        versions = self._versions.get(name)
        if not versions:
            if name in self._known:
                state, reason = self._state[name]
                raise ModelNotReadyError(f"model {name!r} is not ready ({state.lower()}: {reason})")
            raise ModelNotFoundError(f"model {name!r} is not deployed")
        key = self._default[name] if version is None else version
        try:
            return versions[key]
        except KeyError:
            known = ", ".join(versions)
            raise ModelNotFoundError(
                f"model {name!r} has no version {version!r}; deployed: {known}"
            ) from None

    def deployments(self) -> Iterator[Deployment]:
        """Every deployed version."""
        for versions in self._versions.values():
            yield from versions.values()

    def index(self) -> list[dict[str, str]]:
        """The repository index: every known model with its state."""
        rows = []
        for name in sorted(set(self._known) | set(self._versions)):
            state, reason = self._state.get(name, ("READY", ""))
            versions = self._versions.get(name, {})
            for version in versions or [None]:
                row = {"name": name, "state": state, "reason": reason}
                if version is not None:
                    row["version"] = version
                rows.append(row)
        return rows

    def queue_depths(self) -> Iterator[tuple[str, str, int]]:
        """``(model, version, waiting requests)`` for the metrics collector, versions that
        are draining after a swap included."""
        depths: dict[tuple[str, str], int] = {}
        for deployment in [*self.deployments(), *self._draining]:
            key = (deployment.name, deployment.version)
            depths[key] = depths.get(key, 0) + deployment.batcher.depth
        for (name, version), depth in depths.items():
            yield name, version, depth

    def version_states(self) -> Iterator[tuple[str, str, str]]:
        """``(model, version, state)`` of every loaded version: ``default`` (answers requests
        that name no version), ``addressable`` (only by its version) or ``draining``
        (replaced, finishing its queued requests)."""
        states: dict[tuple[str, str, str], None] = {}
        for name, versions in list(self._versions.items()):
            for version in versions:
                state = "default" if self._default.get(name) == version else "addressable"
                states[(name, version, state)] = None
        for deployment in list(self._draining):
            states[(deployment.name, deployment.version, "draining")] = None
        yield from states

    async def close(self) -> None:
        """Drain and unload everything."""
        await self._retire(list(self.deployments()))
        self._versions.clear()
        self._default.clear()

    async def _load(self, config: ModelConfig) -> Deployment:
        """Load a model version (or plan a composite), checked against the composites that
        use the model."""
        if config.composite is None:
            deployment = await asyncio.to_thread(self._build, config)
        else:
            check_members(config, self._members_of)
            model, runner = build_composite(config, self._lookup, self._members, self._batch_hook)
            deployment = Deployment(model=model, batcher=runner)
        try:
            self._check_users(deployment)
        except CompositeError:
            await deployment.batcher.close()
            deployment.model.close()
            raise
        return deployment

    def _lookup(self, name: str) -> LoadedModel | None:
        versions = self._versions.get(name)
        return versions[self._default[name]].model if versions else None

    def _members_of(self, name: str) -> Sequence[str]:
        model = self._lookup(name)
        composite = model.config.composite if model is not None else None
        return composite.members if composite is not None else ()

    def _users(self, name: str) -> list[Deployment]:
        """The deployed composites (any version) that call ``name``."""
        return [
            deployment
            for deployment in self.deployments()
            if deployment.name != name
            and deployment.model.config.composite is not None
            and name in deployment.model.config.composite.members
        ]

    def _check_users(self, deployment: Deployment) -> None:
        """Refuse a version that no longer fits a composite using its model."""

        def lookup(member: str) -> LoadedModel | None:
            return deployment.model if member == deployment.name else self._lookup(member)

        for user in self._users(deployment.name):
            try:
                plan(user.model.config, lookup)
            except CompositeError as error:
                raise CompositeError(
                    f"version {deployment.version!r} of {deployment.name!r} does not fit "
                    f"{user.name!r}, which uses it: {error}"
                ) from None

    def _check_unused(self, name: str) -> None:
        users = sorted({user.name for user in self._users(name)})
        if users:
            raise CompositeError(
                f"model {name!r} is a member of {', '.join(map(repr, users))}; unload "
                f"{'that' if len(users) == 1 else 'those'} first"
            )

    async def _retire(self, deployments: list[Deployment]) -> None:
        """Drain and close replaced versions, reporting them as draining meanwhile."""
        self._draining.extend(deployments)
        try:
            await _retire(deployments)
        finally:
            for deployment in deployments:
                self._draining.remove(deployment)

    def _build(self, config: ModelConfig) -> Deployment:
        model = LoadedModel(config, self._load_runtime(config))
        roles = tuple(name for name in model.runtime.roles.values() if name in model.output_names)
        batcher = Batcher(
            model.predict,
            config.batching,
            on_batch=self._batch_hook(model),
            name=f"{config.name}-{config.version}",
            always_compute=roles,
        )
        return Deployment(model=model, batcher=batcher)


async def _retire(deployments: list[Deployment]) -> None:
    for deployment in deployments:
        await deployment.batcher.close()
        deployment.model.close()
        logger.info("unloaded model %s version %s", deployment.name, deployment.version)
