"""Numpy arrays in a JSON header plus raw buffers: the encoding shared by spool payloads and
tapped batches pushed to the sidecar (no pickling, little copying)."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

__all__ = ["Reader", "describe", "pack", "unpack"]

_LENGTH = struct.Struct("<I")


def describe(value: object, buffers: list[bytes]) -> dict[str, Any] | None:
    """The header entry of ``value``; numeric arrays append their bytes to ``buffers``.

    Numeric arrays travel as little-endian bytes; any other array (strings, objects) or
    sequence as a JSON list, with the array's shape.
    """
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        buffers.append(array.tobytes())
        return {"dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, np.ndarray):
        return {"list": value.tolist(), "shape": list(value.shape)}
    return {"list": list(value)}  # type: ignore[call-overload]


class Reader:
    """Reads the values :func:`describe` described, in the same order."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._offset = 0

    def value(self, spec: Mapping[str, Any] | None) -> Any:
        """A numeric array (a read-only view), a JSON list, or None."""
        if spec is None:
            return None
        if "list" in spec:
            return spec["list"]
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"], dtype=np.int64))
        end = self._offset + count * dtype.itemsize
        if end > len(self._data):
            raise ValueError("buffer shorter than its header says")
        array = np.frombuffer(self._data[self._offset : end], dtype=dtype).reshape(spec["shape"])
        self._offset = end
        return array


def pack(magic: bytes, header: dict[str, Any], buffers: list[bytes]) -> bytes:
    """``magic``, the header's length and JSON, then the buffers."""
    head = orjson.dumps(header, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return b"".join([magic, _LENGTH.pack(len(head)), head, *buffers])


def unpack(magic: bytes, data: bytes | memoryview) -> tuple[dict[str, Any], Reader, int]:
    """The header, a reader over the buffers, and the offset just past the header.

    Raises
    ------
    ValueError
        If the magic is wrong or the header is not a JSON object.
    """
    view = memoryview(data)
    start = len(magic) + _LENGTH.size
    if bytes(view[: len(magic)]) != magic or len(view) < start:
        raise ValueError(f"bad magic (expected {magic!r})")
    (length,) = _LENGTH.unpack_from(view, len(magic))
    header = orjson.loads(view[start : start + length])
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    return header, Reader(view[start + length :]), start + length
