"""Loading a model by runtime kind: the one entry point the server calls.

Each kind reads its own ``options`` (checked here, at load); optional packages are imported
only when a model of their kind is loaded. ``allow_pickle`` matters to the ``sklearn`` kind
only: the other formats (ONNX, XGBoost JSON/UBJSON, LightGBM text, TorchScript) load without
unpickling, and ``python`` imports code that is already installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from serving.errors import RuntimeLoadError
from serving.runtimes.base import Runtime
from serving.runtimes.lightgbm import load_lightgbm
from serving.runtimes.onnx import load_onnx
from serving.runtimes.options import RuntimeOptions
from serving.runtimes.python import PythonRuntime, resolve_model
from serving.runtimes.sklearn import load_sklearn
from serving.runtimes.torchscript import DTYPES, load_torchscript
from serving.runtimes.xgboost import load_xgboost

__all__ = ["RUNTIME_KINDS", "RuntimeKind", "load_runtime"]

RuntimeKind = Literal["sklearn", "python", "onnx", "xgboost", "lightgbm", "torchscript"]
RUNTIME_KINDS: tuple[RuntimeKind, ...] = get_args(RuntimeKind)
"""Every runtime kind :func:`load_runtime` knows."""


@dataclass(frozen=True, slots=True)
class _Request:
    uri: str
    allow_pickle: bool
    feature_names: tuple[str, ...]
    options: Mapping[str, Any] | None


def load_runtime(
    kind: str,
    uri: str,
    *,
    allow_pickle: bool = False,
    options: Mapping[str, Any] | None = None,
    feature_names: Sequence[str] = (),
) -> Runtime:
    """Load the model at ``uri`` with the runtime ``kind``.

    Parameters
    ----------
    kind
        One of :data:`RUNTIME_KINDS`.
    uri
        The model file, or ``package.module:attribute`` for the ``python`` kind.
    allow_pickle
        The operator trusts the file: needed to unpickle ``sklearn`` models.
    options
        Options of the runtime kind: ``intra_op_num_threads``, ``inter_op_num_threads`` and
        ``roles`` (onnx); ``num_threads`` (xgboost, lightgbm); ``outputs`` and ``roles``
        (python); ``outputs``, ``roles``, ``dtype`` and ``num_threads`` (torchscript).
    feature_names
        The model's declared features, in the order :meth:`Runtime.predict` gets them.
        Models that know their features by name (data-frame estimators, boosters with
        feature names, ONNX graphs with one input per feature) read them by name.

    Returns
    -------
    Runtime
        The loaded model, ready to predict.

    Raises
    ------
    RuntimeLoadError
        For an unknown kind, a missing file, a missing optional package, a bad option or a
        file the runtime cannot load; the message names the model and the fix.

    Examples
    --------
    >>> load_runtime("tensorflow", "model.pb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    serving.errors.RuntimeLoadError: unknown runtime 'tensorflow' for model model.pb; expected ...
    """
    loader = _LOADERS.get(kind)
    if loader is None:
        raise RuntimeLoadError(
            f"unknown runtime {kind!r} for model {uri}; expected one of: {', '.join(RUNTIME_KINDS)}"
        )
    if kind != "python":
        path = Path(uri)
        if not path.exists():
            raise RuntimeLoadError(f"{kind} model file {uri} does not exist")
        if not path.is_file():
            raise RuntimeLoadError(f"{kind} model file {uri} is not a file")
    return loader(_Request(uri, allow_pickle, tuple(feature_names), options))


def _sklearn(request: _Request) -> Runtime:
    RuntimeOptions(request.options, runtime="sklearn", allowed=())
    return load_sklearn(
        request.uri, allow_pickle=request.allow_pickle, feature_names=request.feature_names
    )


def _python(request: _Request) -> Runtime:
    options = RuntimeOptions(request.options, runtime="python", allowed=("outputs", "roles"))
    outputs, roles = options.outputs(), options.roles()
    return PythonRuntime(
        resolve_model(request.uri),
        outputs=outputs,
        roles=roles,
        feature_names=request.feature_names,
        name=request.uri,
    )


def _onnx(request: _Request) -> Runtime:
    allowed = ("intra_op_num_threads", "inter_op_num_threads", "roles")
    options = RuntimeOptions(request.options, runtime="onnx", allowed=allowed)
    return load_onnx(
        request.uri,
        feature_names=request.feature_names,
        roles=options.roles(),
        intra_op_num_threads=options.positive_int("intra_op_num_threads", 1),
        inter_op_num_threads=options.positive_int("inter_op_num_threads", 1),
    )


def _xgboost(request: _Request) -> Runtime:
    options = RuntimeOptions(request.options, runtime="xgboost", allowed=("num_threads",))
    return load_xgboost(
        request.uri,
        feature_names=request.feature_names,
        num_threads=options.positive_int("num_threads", 1),
    )


def _lightgbm(request: _Request) -> Runtime:
    options = RuntimeOptions(request.options, runtime="lightgbm", allowed=("num_threads",))
    return load_lightgbm(
        request.uri,
        feature_names=request.feature_names,
        num_threads=options.positive_int("num_threads", 1),
    )


def _torchscript(request: _Request) -> Runtime:
    allowed = ("outputs", "roles", "dtype", "num_threads")
    options = RuntimeOptions(request.options, runtime="torchscript", allowed=allowed)
    return load_torchscript(
        request.uri,
        outputs=options.outputs(),
        roles=options.roles(),
        dtype=options.choice("dtype", DTYPES, "float32"),
        num_threads=options.positive_int("num_threads", 1),
    )


_LOADERS: Mapping[str, Callable[[_Request], Runtime]] = {
    "sklearn": _sklearn,
    "python": _python,
    "onnx": _onnx,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
    "torchscript": _torchscript,
}
