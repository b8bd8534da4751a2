"""PostgreSQL's binary ``COPY`` format, built for many rows at once with numpy.

psycopg's ``Copy.write_row`` adapts one value at a time in Python, a few microseconds a row
for the records table's fourteen columns. Here every column is encoded as a whole: each
field is a 4-byte big-endian length (``-1`` for NULL) and its bytes, so the lengths of a
column are one ``int32`` array, and a column whose values all have one width (numbers,
fixed-size blobs, all-NULL columns) is one ``(n, width)`` byte matrix. Consecutive such
columns are laid side by side into one matrix; only the columns of varying width (text,
JSON, numbers with some NULLs) are per-row ``bytes``, joined between the matrix rows. The
payload is produced in chunks of rows, so that the server can take one chunk while the next
is built.

Layout (PostgreSQL documentation, "COPY", binary format): the signature
``PGCOPY\\n\\377\\r\\n\\0``, a 32-bit flags field and a 32-bit header-extension length
(both 0), then per row a 16-bit field count and the fields, then the trailer ``-1`` (16-bit).
Values are in network byte order, as the types' binary send functions write them: ``int2``,
``int4``, ``int8``, ``float8`` big-endian; ``bytea`` and ``text`` (UTF-8) as they are;
``jsonb`` as a version byte ``1`` then the JSON text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

__all__ = [
    "SIGNATURE",
    "TRAILER",
    "Field",
    "blob_field",
    "constant_field",
    "copy_chunks",
    "float_field",
    "integer_field",
    "jsonb_field",
    "text_field",
]

#: The binary COPY header: signature, flags (0), header extension length (0).
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
#: The field count ``-1`` that ends a binary COPY stream.
TRAILER = b"\xff\xff"
_NULL = -1


@dataclass(frozen=True, slots=True)
class Field:
    """One column of ``n`` rows, encoded.

    ``lengths`` holds each value's byte length, ``-1`` for NULL. The bytes are either
    ``fixed``, an ``(n, width)`` matrix (every non-NULL value has that width; NULL rows are
    skipped when the row is laid out, so ``fixed`` is used only when no row is NULL or all
    are, the latter with width 0), or ``pieces``, one ``bytes`` per row (``b""`` for NULL).
    """

    lengths: NDArray[np.int32]
    fixed: NDArray[np.uint8] | None = None
    pieces: Sequence[bytes] = ()

    def __post_init__(self) -> None:
        n = len(self.lengths)
        rows = len(self.pieces) if self.fixed is None else self.fixed.shape[0]
        if rows != n:
            raise ValueError(f"a field of {n} lengths needs {n} values, got {rows}")


def constant_field(value: int, n: int, dtype: str) -> Field:
    """``value`` in every row, as ``dtype`` (``">i2"``, ``">i4"``, ``">i8"``)."""
    return integer_field(np.full(n, value, dtype=dtype), dtype)


def integer_field(values: NDArray[Any], dtype: str) -> Field:
    """Non-NULL integers as ``dtype`` (``">i2"``, ``">i4"``, ``">i8"``).

    Raises
    ------
    ValueError
        If a value does not fit ``dtype``.
    """
    array = np.asarray(values)
    converted = array.astype(dtype)
    if not np.array_equal(converted, array):
        raise ValueError(f"integers out of range for {np.dtype(dtype).name}")
    return _matrix(converted, np.dtype(dtype).itemsize)


def float_field(values: NDArray[np.float64], *, nan_is_null: bool) -> Field:
    """``float8`` values; with ``nan_is_null`` NaN is stored as NULL, else as NaN."""
    big = np.ascontiguousarray(values, dtype=">f8")
    if not nan_is_null:
        return _matrix(big, 8)
    missing = np.isnan(big)
    if not missing.any():
        return _matrix(big, 8)
    n = len(big)
    if missing.all():
        return _all_null(n)
    data = big.tobytes()
    pieces = [b"" if null else data[8 * i : 8 * i + 8] for i, null in enumerate(missing.tolist())]
    return Field(lengths=np.where(missing, _NULL, 8).astype(np.int32), pieces=pieces)


def blob_field(matrix: NDArray[Any] | None, n: int) -> Field:
    """``bytea``: each row of ``matrix`` as its little-endian bytes; NULL where None."""
    if matrix is None:
        return _all_null(n)
    little = np.ascontiguousarray(matrix, dtype=matrix.dtype.newbyteorder("<"))
    width = little.itemsize * (little.size // n if n else 0)
    return Field(
        lengths=np.full(n, width, dtype=np.int32),
        fixed=little.view(np.uint8).reshape(n, width),
    )


def text_field(values: Sequence[str | None]) -> Field:
    """``text`` (UTF-8); None is NULL.

    Raises
    ------
    UnicodeEncodeError
        If a value cannot be UTF-8 (a lone surrogate), as psycopg would.
    """
    if all(v is None for v in values):
        return _all_null(len(values))
    pieces = [b"" if v is None else v.encode() for v in values]
    return _pieces(pieces, [v is None for v in values])


def jsonb_field(values: Sequence[Any] | None, n: int) -> Field:
    """``jsonb`` (binary format version 1); None, or a None value, is NULL."""
    if values is None or all(v is None for v in values):
        return _all_null(n)
    pieces = [b"" if v is None else b"\x01" + orjson.dumps(v) for v in values]
    return _pieces(pieces, [v is None for v in values])


def copy_chunks(fields: Sequence[Field], *, rows_per_chunk: int = 8192) -> Iterator[bytes]:
    """The whole binary COPY stream of ``fields`` (one per column, in the COPY's column
    order), in pieces of at most ``rows_per_chunk`` rows; the first starts with
    :data:`SIGNATURE`, the last ends with :data:`TRAILER`.

    Raises
    ------
    ValueError
        If the fields do not all have the same number of rows, or ``rows_per_chunk < 1``.
    """
    if rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk must be at least 1, got {rows_per_chunk}")
    sizes = {len(field.lengths) for field in fields}
    if len(sizes) > 1:
        raise ValueError(f"every field needs the same number of rows, got {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    count = np.full((n, 1), len(fields), dtype=">i2").view(np.uint8)
    yield SIGNATURE
    for start in range(0, n, rows_per_chunk):
        yield _rows(fields, count, start, min(start + rows_per_chunk, n))
    yield TRAILER


def _rows(fields: Sequence[Field], count: NDArray[np.uint8], start: int, stop: int) -> bytes:
    """Rows ``start`` to ``stop``: runs of fixed-width bytes as one matrix each, joined
    row by row with the varying pieces between them."""
    runs: list[Sequence[bytes]] = []
    block: list[NDArray[np.uint8]] = [count[start:stop]]
    for field in fields:
        block.append(field.lengths[start:stop].astype(">i4").view(np.uint8).reshape(-1, 4))
        if field.fixed is not None:
            block.append(field.fixed[start:stop])
            continue
        runs.append(_row_bytes(np.concatenate(block, axis=1)))
        runs.append(field.pieces[start:stop])
        block = []
    if block:
        matrix = np.concatenate(block, axis=1)
        if not runs:
            return matrix.tobytes()
        runs.append(_row_bytes(matrix))
    return b"".join(itertools.chain.from_iterable(zip(*runs, strict=True)))


def _row_bytes(matrix: NDArray[np.uint8]) -> list[bytes]:
    width = matrix.shape[1]
    if width == 0:
        return [b""] * len(matrix)
    data = np.ascontiguousarray(matrix).tobytes()
    return [data[i : i + width] for i in range(0, len(data), width)]


def _matrix(values: NDArray[Any], itemsize: int) -> Field:
    n = len(values)
    return Field(
        lengths=np.full(n, itemsize, dtype=np.int32),
        fixed=np.ascontiguousarray(values).view(np.uint8).reshape(n, itemsize),
    )


def _all_null(n: int) -> Field:
    return Field(lengths=np.full(n, _NULL, dtype=np.int32), fixed=np.zeros((n, 0), np.uint8))


def _pieces(pieces: list[bytes], nulls: list[bool]) -> Field:
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    if (lengths > 2**31 - 1).any():
        raise ValueError("a value exceeds PostgreSQL's 1 GiB field limit")
    lengths[np.asarray(nulls, dtype=bool)] = _NULL
    return Field(lengths=lengths.astype(np.int32), pieces=pieces)
