"""Rules every transport applies to a request's tensors: shapes, raw bytes, names, timeout.

REST (JSON, with Triton's binary tensor extension) and gRPC (typed ``contents`` or
``raw_input_contents``) decode into the same :class:`~serving.protocol.requests.InputTensor`
through these checks, so that a request refused on one is refused on the other with the same
words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from serving.errors import InvalidRequestError
from serving.protocol.datatypes import dtype_of, item_size

__all__ = [
    "MAX_DIMS",
    "check_shape",
    "check_unique_names",
    "decode_raw",
    "encode_bytes",
    "requested_outputs",
    "split_bytes",
    "timeout_of",
]

MAX_DIMS = 8
"""Most dimensions a tensor may have."""


def check_shape(raw: object, *, at: str) -> tuple[int, ...]:
    """The shape (a list) as a tuple of 1 to :data:`MAX_DIMS` non-negative integers."""
    if (
        not isinstance(raw, list)
        or not 1 <= len(raw) <= MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in raw)
    ):
        raise InvalidRequestError(
            f"{at}: expected a list of 1 to {MAX_DIMS} non-negative integers, got {raw!r}"
        )
    return tuple(raw)


def decode_raw(
    chunk: bytes | memoryview, datatype: str, size: int, *, at: str, what: str
) -> np.ndarray[Any, Any]:
    """A flat array from raw tensor bytes: little-endian elements in row-major order, or for
    BYTES, each element as a 4-byte little-endian length and its UTF-8 bytes.

    ``what`` names the bytes in messages (``binary_data_size``, ``raw_input_contents[0]``).
    """
    if datatype == "BYTES":
        return split_bytes(chunk, at=at)
    expected = size * item_size(datatype)
    if len(chunk) != expected:
        raise InvalidRequestError(f"{at}: {what} is {len(chunk)} bytes, the shape needs {expected}")
    dtype = dtype_of(datatype, at=at).newbyteorder("<")
    return np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)


def split_bytes(chunk: bytes | memoryview, *, at: str) -> np.ndarray[Any, Any]:
    """The BYTES elements of a raw tensor, as an object array of ``str``."""
    view = memoryview(chunk)
    values: list[str] = []
    offset = 0
    while offset < len(view):
        if offset + 4 > len(view):
            raise InvalidRequestError(f"{at}: truncated BYTES element length")
        length = int.from_bytes(view[offset : offset + 4], "little")
        start, offset = offset + 4, offset + 4 + length
        if offset > len(view):
            raise InvalidRequestError(f"{at}: BYTES element runs past its tensor")
        try:
            values.append(bytes(view[start:offset]).decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidRequestError(f"{at}: BYTES element is not UTF-8 text") from None
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def encode_bytes(values: Iterable[str | bytes]) -> bytes:
    """Raw BYTES: each element's length (4 bytes, little-endian), then the element."""
    parts: list[bytes] = []
    for value in values:
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        parts.append(len(data).to_bytes(4, "little"))
        parts.append(data)
    return b"".join(parts)


def check_unique_names(names: Sequence[str]) -> None:
    """Refuse a request naming one input twice."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise InvalidRequestError(f"inputs[{i}].name: {name!r} is given twice")
        seen.add(name)


def requested_outputs(names: Sequence[str]) -> tuple[str, ...] | None:
    """The requested output names without repeats; None (every output) when none."""
    return tuple(dict.fromkeys(names)) or None


def timeout_of(parameters: Mapping[str, Any]) -> float | None:
    """The request's ``timeout`` parameter (Triton's, in microseconds) in seconds."""
    raw = parameters.get("timeout")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise InvalidRequestError(
            f"parameters.timeout: expected a positive number of microseconds, got {raw!r}"
        )
    return float(raw) / 1e6
