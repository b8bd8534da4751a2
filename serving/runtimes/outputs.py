"""Declared outputs: OIP datatypes of numpy arrays, and holding a model's answer to them.

Runtimes whose library types its outputs (ONNX, XGBoost, LightGBM) publish those types.
Runtimes running arbitrary Python (a scikit-learn estimator, a function, TorchScript) declare
their outputs up front, from the estimator or the model's options, and :func:`conform` checks
each answer against the declaration, so the metadata a client reads is the truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import numpy as np
from numpy.typing import NDArray

from serving.errors import ModelOutputError, RuntimeLoadError
from serving.protocol.datatypes import DATATYPES as PROTOCOL_DATATYPES
from serving.runtimes.base import OutputRole, TensorSpec

__all__ = ["DATATYPES", "ROLES", "check_roles", "conform", "datatype_of"]

DATATYPES: Mapping[str, np.dtype[Any] | None] = {
    name: None if name == "BYTES" else dtype for name, dtype in PROTOCOL_DATATYPES.items()
}
"""OIP datatype → the numpy dtype of its arrays; ``BYTES`` arrays hold ``str`` or ``bytes``
(numpy ``U``, ``S`` or object dtype)."""

ROLES: tuple[OutputRole, ...] = get_args(OutputRole)
"""Every output role, in the order of :data:`~serving.runtimes.base.OutputRole`."""

_TEXT_KINDS = "USO"


def datatype_of(dtype: np.dtype[Any]) -> str:
    """The OIP datatype of arrays of ``dtype``: ``FP64`` for float64, ``BYTES`` for text.

    Raises
    ------
    ValueError
        For dtypes the protocol has no datatype for (complex, datetime, void).
    """
    if dtype.kind in _TEXT_KINDS:
        return "BYTES"
    for datatype, numpy_dtype in DATATYPES.items():
        if numpy_dtype == dtype:
            return datatype
    raise ValueError(f"no Open Inference Protocol datatype for numpy dtype {dtype}")


def conform(value: Any, spec: TensorSpec, rows: int, *, what: str) -> NDArray[Any]:
    """``value`` as an array of ``spec``'s datatype with ``rows`` rows.

    Numbers are cast only within their kind or to a wider one (int32 → INT64, float32 →
    FP64, int → FP64); anything else, like floats declared INT64 or numbers declared BYTES,
    is refused rather than silently changed.

    Raises
    ------
    ModelOutputError
        When the model returned another number of rows or a datatype that does not fit.
    """
    array = np.asarray(value)
    if array.ndim == 0 or array.shape[0] != rows:
        raise ModelOutputError(
            f"{what}: output {spec.name!r} has shape {list(array.shape)}, "
            f"expected {rows} row(s) for {rows} input row(s)"
        )
    wanted = DATATYPES[spec.datatype]
    if wanted is None:
        if array.dtype.kind not in _TEXT_KINDS:
            raise ModelOutputError(
                f"{what}: output {spec.name!r} is declared BYTES but holds {array.dtype} values"
            )
        return array
    if array.dtype == wanted:
        return array
    if not np.can_cast(array.dtype, wanted, casting="same_kind"):
        raise ModelOutputError(
            f"{what}: output {spec.name!r} is declared {spec.datatype} but holds "
            f"{array.dtype} values"
        )
    return array.astype(wanted)


def check_roles(
    roles: Mapping[OutputRole, str], outputs: tuple[TensorSpec, ...], *, what: str
) -> dict[OutputRole, str]:
    """``roles`` as a dict, after checking each names one of ``outputs``.

    Raises
    ------
    RuntimeLoadError
        Naming the role, the missing output and the outputs there are.
    """
    names = [spec.name for spec in outputs]
    for role, name in roles.items():
        if name not in names:
            raise RuntimeLoadError(
                f"{what}: role {role!r} names output {name!r}, but the model's outputs are "
                f"{', '.join(names)}"
            )
    return dict(roles)
