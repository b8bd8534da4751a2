"""ONNX models through onnxruntime (the ``onnx`` extra), on the CPU.

Inputs: a graph with one 2-D input takes the whole feature matrix, cast to the input's
element type; a graph with one input per feature (each ``[rows]`` or ``[rows, 1]``) takes the
declared feature of the same name (graph order when features are not declared). Outputs are
the graph's, with its names and types. Classifiers converted by skl2onnx get roles: ``label``
is the prediction, ``probabilities`` the class probabilities. Convert them with
``options={"zipmap": False}``: ZipMap's sequence-of-maps output is not a tensor and is refused.

Errors: features that cannot be cast to the input type, and onnxruntime's ``InvalidArgument``
(a shape or type the graph does not accept), are :class:`~serving.errors.PredictionError`;
other onnxruntime failures propagate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec, import_optional
from serving.runtimes.columns import as_numbers, check_declared, check_width
from serving.runtimes.outputs import DATATYPES, check_roles

__all__ = ["OnnxRuntime", "load_onnx"]

_ELEMENT_TYPES = {
    "bool": "BOOL",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "float16": "FP16",
    "float": "FP32",
    "double": "FP64",
    "string": "BYTES",
}
"""ONNX tensor element type (as onnxruntime spells it in ``tensor(...)``) → OIP datatype."""

_SKL2ONNX_ROLES: dict[str, OutputRole] = {
    "label": "prediction",
    "output_label": "prediction",
    "variable": "prediction",
    "probabilities": "probabilities",
    "output_probability": "probabilities",
}


class OnnxRuntime(Runtime):
    """An onnxruntime ``InferenceSession``.

    Parameters
    ----------
    session
        The session.
    feature_names
        Declared features, matched by name to a graph with one input per feature.
    roles
        Declared roles, replacing the ones guessed from skl2onnx output names.
    name
        What the model is called in messages (its file).

    Raises
    ------
    RuntimeLoadError
        For inputs or outputs that are not tensors of a supported type, per-feature inputs
        wider than one column or not among the declared features, and roles naming no output.
    """

    platform = "onnx_onnxv1"

    def __init__(
        self,
        session: Any,
        *,
        feature_names: Sequence[str] = (),
        roles: Mapping[OutputRole, str] | None = None,
        name: str = "model",
    ) -> None:
        self._what = f"onnx model {name}"
        self._session = session
        inputs = session.get_inputs()
        self._names = [node.name for node in inputs]
        self._types = [_numpy_type(self._datatype(node, "input")) for node in inputs]
        self._matrix = len(inputs) == 1 and len(inputs[0].shape) == 2
        self._columns: list[int] = []
        if self._matrix:
            width = inputs[0].shape[1]
            self._width = width if isinstance(width, int) else None
            check_declared(feature_names, self._width, what=self._what)
        else:
            self._columns = self._map_columns(inputs, feature_names)
            self._width = len(feature_names) if feature_names else len(inputs)
        self._ranks = [len(node.shape) for node in inputs]
        self._outputs = tuple(
            TensorSpec(node.name, self._datatype(node, "output"), _shape(node.shape))
            for node in session.get_outputs()
        )
        names = {spec.name for spec in self._outputs}
        guessed = {role: output for output, role in _SKL2ONNX_ROLES.items() if output in names}
        if not guessed and len(self._outputs) == 1:
            guessed = {"prediction": self._outputs[0].name}
        self._roles = check_roles(
            guessed if roles is None else roles, self._outputs, what=self._what
        )
        self._invalid_argument = _invalid_argument_error()

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        check_width(features, self._width, what=self._what)
        if self._matrix:
            feed = {self._names[0]: self._cast(features, self._types[0])}
        else:
            feed = {}
            for name, column, dtype, rank in zip(
                self._names, self._columns, self._types, self._ranks, strict=True
            ):
                values = self._cast(features[:, column], dtype)
                feed[name] = values.reshape(-1, 1) if rank == 2 else values
        try:
            answer = self._session.run(list(outputs), feed)
        except self._invalid_argument as error:
            raise PredictionError(f"{self._what}: {error}") from error
        return dict(zip(outputs, answer, strict=True))

    def close(self) -> None:
        self._session = None

    def _cast(self, values: NDArray[Any], dtype: np.dtype[Any]) -> NDArray[Any]:
        if dtype.kind == "O":  # a string tensor
            return values.astype(str)
        return as_numbers(values, dtype, what=self._what)

    def _datatype(self, node: Any, kind: str) -> str:
        element = node.type.removeprefix("tensor(").removesuffix(")")
        if node.type.startswith("tensor(") and element in _ELEMENT_TYPES:
            return _ELEMENT_TYPES[element]
        hint = ""
        if node.type.startswith(("seq(", "map(")):
            hint = (
                ": a ZipMap output of skl2onnx? Convert with options={'zipmap': False} "
                "(to_onnx(model, X, options={'zipmap': False})) to get a probabilities tensor"
            )
        raise RuntimeLoadError(f"{self._what}: {kind} {node.name!r} is a {node.type}{hint}")

    def _map_columns(self, inputs: Sequence[Any], declared: Sequence[str]) -> list[int]:
        for node in inputs:
            if len(node.shape) not in (1, 2) or (len(node.shape) == 2 and node.shape[1] != 1):
                raise RuntimeLoadError(
                    f"{self._what}: input {node.name!r} has shape {node.shape}; a graph with "
                    "several inputs takes one feature per input, each [rows] or [rows, 1]"
                )
        if not declared:
            return list(range(len(inputs)))
        missing = [node.name for node in inputs if node.name not in declared]
        if missing:
            raise RuntimeLoadError(
                f"{self._what} has input(s) {', '.join(map(repr, missing))}, which the "
                f"declared features ({', '.join(declared)}) do not include"
            )
        return [list(declared).index(node.name) for node in inputs]


def load_onnx(
    path: str | Path,
    *,
    feature_names: Sequence[str] = (),
    roles: Mapping[OutputRole, str] | None = None,
    intra_op_num_threads: int = 1,
    inter_op_num_threads: int = 1,
) -> OnnxRuntime:
    """Open an ``.onnx`` file in an onnxruntime session on the CPU.

    Parameters
    ----------
    path
        The model file.
    feature_names, roles
        As for :class:`OnnxRuntime`.
    intra_op_num_threads
        Threads one operator may use. The default 1 suits small tabular models on a shared
        machine; the server already predicts each model on its own thread.
    inter_op_num_threads
        Threads running independent operators at once (1: sequential execution).

    Raises
    ------
    RuntimeLoadError
        Without onnxruntime, when onnxruntime cannot open the file, or as
        :class:`OnnxRuntime` does.
    """
    ort = import_optional("onnxruntime", runtime="onnx", extra="onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_num_threads
    options.inter_op_num_threads = inter_op_num_threads
    modes = ort.ExecutionMode
    options.execution_mode = (
        modes.ORT_SEQUENTIAL if inter_op_num_threads == 1 else modes.ORT_PARALLEL
    )
    # Idle pool threads must not spin on a 2-core machine shared with the event loop.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises a dozen unrelated classes
        raise RuntimeLoadError(f"cannot load onnx model {path}: {error}") from error
    return OnnxRuntime(session, feature_names=feature_names, roles=roles, name=str(path))


def _shape(dims: Sequence[Any]) -> tuple[int, ...]:
    """ONNX dims as OIP sizes: symbolic or unknown dims (``None``, ``"N"``) become -1."""
    return tuple(dim if isinstance(dim, int) else -1 for dim in dims)


def _numpy_type(datatype: str) -> np.dtype[Any]:
    """The numpy dtype fed to an input of ``datatype``; text goes as an object array."""
    return DATATYPES[datatype] or np.dtype(object)


def _invalid_argument_error() -> type[Exception]:
    ort = import_optional("onnxruntime", runtime="onnx", extra="onnx")
    error: type[Exception] = ort.capi.onnxruntime_pybind11_state.InvalidArgument
    return error
