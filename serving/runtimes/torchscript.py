"""PyTorch TorchScript models (``torch.jit.save`` files), the ``torch`` extra, on the CPU.

The module is called once per batch on a ``(rows, n_features)`` tensor (float32 by default,
option ``dtype``), under ``torch.inference_mode()``. It returns a tensor, a tuple or list of
tensors, or a dict of tensors. Outputs are declared with the ``outputs`` option (their names
match a tuple's positions or a dict's keys); by default there is one, ``predict`` (FP32,
``[-1, -1]``) as the prediction. ``num_threads`` (default 1) sets torch's intra-op threads,
which are shared by the whole process.

Errors: features that are not numbers are a :class:`~serving.errors.PredictionError`, and so
is a ``RuntimeError`` or ``ValueError`` raised by the module (TorchScript raises
``RuntimeError`` for tensors of the wrong shape); an answer that does not fit the declared
outputs is a :class:`~serving.errors.ModelOutputError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import ModelOutputError, PredictionError, RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec, import_optional
from serving.runtimes.columns import as_numbers
from serving.runtimes.outputs import check_roles, conform

__all__ = ["TorchScriptRuntime", "load_torchscript"]

_DEFAULT_OUTPUTS = (TensorSpec("predict", "FP32", (-1, -1)),)
DTYPES = ("float32", "float64")
"""Element types the module may take its features as."""


class TorchScriptRuntime(Runtime):
    """A loaded TorchScript module.

    Parameters
    ----------
    module
        The module (from ``torch.jit.load``), in evaluation mode.
    torch
        The ``torch`` package.
    outputs, roles
        Declared outputs and roles; by default one ``predict`` output, the prediction.
    dtype
        The element type of the feature tensor, one of :data:`DTYPES`.
    name
        What the model is called in messages (its file).
    """

    platform = "pytorch_torchscript"

    def __init__(
        self,
        module: Any,
        torch: Any,
        *,
        outputs: Sequence[TensorSpec] | None = None,
        roles: Mapping[OutputRole, str] | None = None,
        dtype: str = "float32",
        name: str = "model",
    ) -> None:
        self._what = f"torchscript model {name}"
        self._module = module
        self._torch = torch
        self._dtype = np.dtype(dtype)
        self._outputs = tuple(outputs) if outputs is not None else _DEFAULT_OUTPUTS
        self._specs = {spec.name: spec for spec in self._outputs}
        default: dict[OutputRole, str] = (
            {"prediction": self._outputs[0].name} if len(self._outputs) == 1 else {}
        )
        self._roles = check_roles(
            default if roles is None else roles, self._outputs, what=self._what
        )

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        numbers = as_numbers(features, self._dtype, what=self._what)
        if not numbers.flags.writeable:  # torch shares the memory and wants it writable
            numbers = numbers.copy()
        tensor = self._torch.from_numpy(numbers)
        try:
            with self._torch.inference_mode():
                answer = self._module(tensor)
        except (RuntimeError, ValueError) as error:
            raise PredictionError(f"{self._what}: {error}") from error
        named = self._name(answer)
        rows = features.shape[0]
        return {
            name: conform(
                named[name].detach().cpu().numpy(), self._specs[name], rows, what=self._what
            )
            for name in outputs
        }

    def close(self) -> None:
        self._module = None

    def _name(self, answer: Any) -> Mapping[str, Any]:
        """The module's answer as ``{output name: tensor}``."""
        if isinstance(answer, Mapping):
            named: Mapping[str, Any] = answer
        elif isinstance(answer, tuple | list) and len(answer) == len(self._outputs):
            named = {spec.name: value for spec, value in zip(self._outputs, answer, strict=True)}
        elif isinstance(answer, self._torch.Tensor) and len(self._outputs) == 1:
            named = {self._outputs[0].name: answer}
        else:
            raise ModelOutputError(
                f"{self._what} returned a {type(answer).__name__}, which does not fit its "
                f"{len(self._outputs)} declared output(s) {', '.join(self._specs)}"
            )
        missing = [name for name in self._specs if name not in named]
        if missing:
            raise ModelOutputError(f"{self._what} returned no {', '.join(map(repr, missing))}")
        return named


def load_torchscript(
    path: str | Path,
    *,
    outputs: Sequence[TensorSpec] | None = None,
    roles: Mapping[OutputRole, str] | None = None,
    dtype: str = "float32",
    num_threads: int = 1,
) -> TorchScriptRuntime:
    """Load a TorchScript file with ``torch.jit.load`` onto the CPU.

    ``torch.jit.load`` reads TorchScript code and tensors, not arbitrary pickles, so it
    needs no ``allow_pickle``.

    Parameters
    ----------
    path
        The model file.
    outputs, roles, dtype
        As for :class:`TorchScriptRuntime`.
    num_threads
        torch's intra-op threads (``torch.set_num_threads``), for the whole process.

    Raises
    ------
    RuntimeLoadError
        Without torch, or when torch cannot read the file.
    """
    torch = import_optional("torch", runtime="torchscript", extra="torch")
    torch.set_num_threads(num_threads)
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as error:
        raise RuntimeLoadError(f"cannot load torchscript model {path}: {error}") from error
    module.eval()
    return TorchScriptRuntime(
        module, torch, outputs=outputs, roles=roles, dtype=dtype, name=str(path)
    )
