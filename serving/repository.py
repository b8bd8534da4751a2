"""The deployed models: load, version, hot-swap and unload without dropping requests.

Deploying a version loads its runtime off the event loop while the current version keeps
serving; only when the new one is ready does it become the default, and the versions it
replaces are drained (their queued and running requests finish) before they are closed. A
failed load leaves what was serving untouched and records the reason in the index.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from serving.batcher import BatchDone, Batcher
from serving.config import ModelConfig
from serving.errors import ModelNotFoundError, ModelNotReadyError
from serving.model import LoadedModel
from serving.runtimes.base import Runtime

__all__ = ["Deployment", "ModelRepository"]

logger = logging.getLogger(__name__)

RuntimeLoader = Callable[[ModelConfig], Runtime]
BatchHook = Callable[[LoadedModel], BatchDone]
"""Makes the function a model's batcher calls after each batch (metrics, tap)."""


@dataclass(frozen=True, slots=True, eq=False)
class Deployment:
    """One model version that answers requests."""

    model: LoadedModel
    batcher: Batcher

    @property
    def name(self) -> str:
        return self.model.config.name

    @property
    def version(self) -> str:
        return self.model.config.version


class ModelRepository:
    """Every deployed model version, and the default version of each model."""

    def __init__(self, *, load_runtime: RuntimeLoader, batch_hook: BatchHook) -> None:
        self._load_runtime = load_runtime
        self._batch_hook = batch_hook
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
            self._state[config.name] = ("LOADING", f"loading version {config.version}")
            try:
                deployment = await asyncio.to_thread(self._build, config)
            except Exception as error:
                serving = config.name in self._default
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
        await _retire(retired)
        logger.info("deployed model %s version %s", config.name, config.version)
        return deployment

    async def undeploy(self, name: str, version: str | None = None) -> None:
        """Stop serving a model (every version, or one), finishing what is queued."""
        async with self._lock:
            versions = self._versions.get(name)
            if not versions or (version is not None and version not in versions):
                what = f"version {version!r} of model {name!r}" if version else f"model {name!r}"
                raise ModelNotFoundError(f"{what} is not deployed")
            retired = [versions.pop(version)] if version else list(versions.values())
            if version is None:
                versions.clear()
            if versions:
                self._default[name] = next(reversed(versions))
            else:
                del self._versions[name]
                self._default.pop(name, None)
                self._state[name] = ("UNAVAILABLE", "unloaded")
        await _retire(retired)

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
        """``(model, version, waiting requests)`` for the metrics collector."""
        for deployment in list(self.deployments()):
            yield deployment.name, deployment.version, deployment.batcher.depth

    async def close(self) -> None:
        """Drain and unload everything."""
        await _retire(list(self.deployments()))
        self._versions.clear()
        self._default.clear()

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
