"""The runtime contract: a loaded model that predicts one batch of feature rows.

The server turns every request, whatever its form (one ``[n, m]`` tensor, one tensor per
feature, or records), into one 2-D array of feature rows in the model's declared order, then
calls :meth:`Runtime.predict` on the batch of many requests at once. A runtime is synchronous:
the batcher calls it off the event loop, on one worker thread per model.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from serving.errors import RuntimeLoadError

__all__ = ["OutputRole", "Runtime", "TensorSpec", "as_float_rows", "import_optional"]

OutputRole = Literal["prediction", "probabilities", "score"]
"""What an output means to monitoring: the predicted label or value, the class
probabilities ``(n, n_classes)``, or one score per row."""


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """Metadata of one tensor, as the Open Inference Protocol publishes it.

    Attributes
    ----------
    name
        Tensor name.
    datatype
        OIP datatype: ``BOOL``, ``INT8`` … ``INT64``, ``UINT8`` … ``UINT64``, ``FP16``,
        ``FP32``, ``FP64`` or ``BYTES``.
    shape
        Dimensions, ``-1`` where variable; the first is the batch dimension.
    """

    name: str
    datatype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """The OIP metadata form ``{"name", "datatype", "shape"}``."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


class Runtime(ABC):
    """A loaded model.

    Subclasses set :attr:`platform` and implement :attr:`outputs` and :meth:`predict`;
    :meth:`close` releases what loading took (sessions, threads).
    """

    platform: ClassVar[str]
    """OIP platform name, ``<project>_<format>`` (``sklearn_joblib``, ``onnx_onnxv1``)."""

    @property
    @abstractmethod
    def outputs(self) -> tuple[TensorSpec, ...]:
        """Every output the model can produce, in the order returned when none is asked for."""

    @property
    def roles(self) -> Mapping[OutputRole, str]:
        """Which output is the prediction, the class probabilities or a score (if any)."""
        return {}

    @abstractmethod
    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        """Predict a batch.

        Parameters
        ----------
        features
            ``(rows, n_features)``: float64 when every feature is numeric, object otherwise.
        outputs
            Names of the outputs wanted, each one of :attr:`outputs`; never empty.

        Returns
        -------
        dict
            One array per requested output, each with ``rows`` as its first dimension.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources; the runtime is not used afterwards."""


def as_float_rows(
    features: NDArray[Any], dtype: type[np.floating[Any]] = np.float64
) -> NDArray[Any]:
    """``features`` as a C-contiguous float array, for runtimes that take numbers only."""
    return np.ascontiguousarray(features, dtype=dtype)


def import_optional(module: str, *, runtime: str, extra: str) -> Any:
    """Import the optional package a runtime needs, when the runtime loads a model.

    Optional packages are imported here, never at import of :mod:`serving`, so a server
    without them starts and serves the other runtimes.

    Parameters
    ----------
    module
        Module to import, such as ``onnxruntime``.
    runtime
        Runtime kind, for the message.
    extra
        The ``driftline`` extra that installs the package.

    Raises
    ------
    RuntimeLoadError
        Naming the package and the ``pip install`` command that brings it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise RuntimeLoadError(
            f"the {runtime} runtime needs {module}: pip install 'driftline[{extra}]' ({error})"
        ) from error
