"""Open Inference Protocol datatypes and their numpy counterparts."""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.errors import InvalidRequestError

__all__ = ["DATATYPES", "datatype_of", "dtype_of", "item_size"]

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
"""Every datatype the server accepts, with the numpy dtype its tensors decode to (BYTES
become object arrays of ``str``). BF16 has no numpy type and no REST form; it is refused."""

_BY_KIND: dict[tuple[str, int], str] = {
    (dtype.kind, dtype.itemsize): name for name, dtype in DATATYPES.items() if name != "BYTES"
}


def dtype_of(datatype: object, *, at: str) -> np.dtype[Any]:
    """The numpy dtype of an OIP datatype name, or an error naming where it was given."""
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        known = ", ".join(DATATYPES)
        raise InvalidRequestError(f"{at}: unsupported datatype {datatype!r}; use one of {known}")
    return DATATYPES[datatype]


def datatype_of(array: np.ndarray[Any, Any]) -> str:
    """The OIP datatype that carries ``array`` (strings and objects travel as BYTES).

    Examples
    --------
    >>> datatype_of(np.zeros(2))
    'FP64'
    >>> datatype_of(np.array(["a"]))
    'BYTES'
    """
    dtype = array.dtype
    if dtype.kind in "OUS":
        return "BYTES"
    try:
        return _BY_KIND[(dtype.kind, dtype.itemsize)]
    except KeyError:
        return "FP64" if dtype.kind in "fc" else "BYTES"


def item_size(datatype: str) -> int:
    """Bytes per element in the binary tensor form (0 for the variable-length BYTES)."""
    return 0 if datatype == "BYTES" else DATATYPES[datatype].itemsize
