"""Framework-agnostic model runtimes: a loaded model that predicts a batch of feature rows.

:func:`load_runtime` loads a model by kind (``sklearn``, ``python``, ``onnx``, ``xgboost``,
``lightgbm``, ``torchscript``); every runtime implements :class:`Runtime`. Optional packages
(onnxruntime, xgboost, lightgbm, torch) are imported when a model of their kind loads, never
on import of this package.
"""

from __future__ import annotations

from serving.runtimes.base import OutputRole, Runtime, TensorSpec, as_float_rows
from serving.runtimes.lightgbm import LightGBMRuntime
from serving.runtimes.onnx import OnnxRuntime
from serving.runtimes.python import PythonRuntime
from serving.runtimes.registry import RUNTIME_KINDS, RuntimeKind, load_runtime
from serving.runtimes.sklearn import SklearnRuntime
from serving.runtimes.torchscript import TorchScriptRuntime
from serving.runtimes.xgboost import XGBoostRuntime

__all__ = [
    "RUNTIME_KINDS",
    "LightGBMRuntime",
    "OnnxRuntime",
    "OutputRole",
    "PythonRuntime",
    "Runtime",
    "RuntimeKind",
    "SklearnRuntime",
    "TensorSpec",
    "TorchScriptRuntime",
    "XGBoostRuntime",
    "as_float_rows",
    "load_runtime",
]
