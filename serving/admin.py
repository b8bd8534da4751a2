"""The repository extension's load parameters, turned into a :class:`ModelConfig`.

``POST /v2/repository/models/{name}/load`` takes ``{"parameters": {...}}`` with any of
``runtime``, ``uri``, ``version``, ``allow_pickle`` and batching fields; Triton's clients send
the same keys as a JSON string in ``parameters.config``. Keys not given keep the values of the
model's declared (or last deployed) configuration, so an empty body reloads it (a
composite too: it is planned again against its members' current versions).
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.errors import InvalidRequestError, ServingError

__all__ = ["AdminAccessError", "AdminPolicy", "load_config", "read_parameters"]

_BATCHING = {f.name for f in dataclasses.fields(BatchingConfig)}
_STRINGS = ("runtime", "uri", "version", "preprocess", "postprocess")


class AdminAccessError(ServingError):
    """The caller may not use the admin API (no or wrong token, not on loopback)."""


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """Who may load and unload models.

    With a ``token``, callers must send ``Authorization: Bearer <token>``; without one, only
    clients on the loopback interface may. ``allow_pickle`` lets API callers deploy pickled
    models (unpickling runs code from the file).
    """

    token: str | None = None
    allow_pickle: bool = False

    def check(self, authorization: str | None, client_host: str | None) -> None:
        """Raise :class:`AdminAccessError` unless the caller may administer models."""
        if self.token is None:
            if client_host not in ("127.0.0.1", "::1", "localhost"):
                raise AdminAccessError(
                    "the admin API is only open to loopback clients unless a token is set"
                )
            return
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials, self.token):
            raise AdminAccessError("the admin API needs 'Authorization: Bearer <admin token>'")


def load_config(
    name: str, body: bytes, base: ModelConfig | None, *, policy: AdminPolicy
) -> ModelConfig:
    """The configuration a load request asks for."""
    parameters = read_parameters(body)
    if "config" in parameters:
        parameters = {**_config_string(parameters.pop("config")), **parameters}
    unknown = sorted(set(parameters) - {*_STRINGS, *_BATCHING, "allow_pickle", "features"})
    if unknown:
        raise InvalidRequestError(f"parameters: unknown key(s) {', '.join(unknown)}")
    for key in _STRINGS:
        if key in parameters and not isinstance(parameters[key], str):
            raise InvalidRequestError(f"parameters.{key}: expected a string")
    if base is None:
        missing = [key for key in ("runtime", "uri") if key not in parameters]
        if missing:
            raise InvalidRequestError(
                f"parameters: model {name!r} is not declared; give {' and '.join(missing)}"
            )
        base = ModelConfig(
            name=name, version="1", runtime=parameters["runtime"], uri=parameters["uri"]
        )
    allow_pickle = parameters.get("allow_pickle", base.allow_pickle)
    if allow_pickle is True and not base.allow_pickle and not policy.allow_pickle:
        raise AdminAccessError(
            "parameters.allow_pickle: this server does not let API callers unpickle model files "
            "(start it with --allow-pickle, or declare allow_pickle in the project file)"
        )
    batching = {key: parameters[key] for key in _BATCHING if key in parameters}
    try:
        return dataclasses.replace(
            base,
            **{key: parameters[key] for key in _STRINGS if key in parameters},
            allow_pickle=bool(allow_pickle),
            batching=dataclasses.replace(base.batching, **batching),
            composite=None if {"runtime", "uri"} & set(parameters) else base.composite,
            features=_features(parameters["features"])
            if "features" in parameters
            else base.features,
        )
    except TypeError as error:
        raise InvalidRequestError(f"parameters: {error}") from None


def read_parameters(body: bytes) -> dict[str, Any]:
    """The ``parameters`` object of a repository request body (empty body: none)."""
    if not body.strip():
        return {}
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequestError(f"body: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InvalidRequestError("body: expected a JSON object")
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidRequestError("parameters: expected an object")
    return dict(parameters)


def _config_string(raw: object) -> dict[str, Any]:
    try:
        config = orjson.loads(raw) if isinstance(raw, str | bytes) else None
    except orjson.JSONDecodeError:
        config = None
    if not isinstance(config, dict):
        raise InvalidRequestError("parameters.config: expected a JSON object in a string")
    return config


def _features(raw: object) -> tuple[FeatureInput, ...]:
    if not isinstance(raw, list):
        raise InvalidRequestError("parameters.features: expected a list")
    features = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            features.append(FeatureInput(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            kind = item.get("kind", "numeric")
            if kind not in ("numeric", "categorical", "text"):
                raise InvalidRequestError(f"parameters.features[{i}].kind: unknown kind {kind!r}")
            features.append(FeatureInput(item["name"], kind))
        else:
            raise InvalidRequestError(
                f"parameters.features[{i}]: expected a name or {{name, kind}}"
            )
    return tuple(features)
