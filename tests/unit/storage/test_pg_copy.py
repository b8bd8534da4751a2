"""Tests of the binary COPY payload builder against the format written out by hand.

The expected bytes are built here with :mod:`struct`, field by field, from PostgreSQL's
description of the format; the round trip through a real server is in
``tests/integration/storage/test_pg_copy.py``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pytest

from storage.pg_copy import (
    SIGNATURE,
    TRAILER,
    Field,
    blob_field,
    constant_field,
    copy_chunks,
    float_field,
    integer_field,
    jsonb_field,
    text_field,
)


def field(data: bytes | None) -> bytes:
    return b"\xff\xff\xff\xff" if data is None else struct.pack(">i", len(data)) + data


def row(*fields: bytes | None) -> bytes:
    return struct.pack(">h", len(fields)) + b"".join(field(f) for f in fields)


def stream(fields: Sequence[Field], rows_per_chunk: int = 8192) -> bytes:
    return b"".join(copy_chunks(fields, rows_per_chunk=rows_per_chunk))


def test_header_and_trailer_follow_the_format() -> None:
    assert SIGNATURE == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert stream([]) == SIGNATURE + TRAILER


def test_every_kind_of_column_matches_the_format() -> None:
    ids = ["a", "ünï-😀", "x" * 300]
    latency = np.array([0.5, math.nan, -1e308])
    probabilities = np.array([[0.25, 0.75], [1.0, 0.0], [math.nan, 0.5]])
    texts: list[Any] = [{"note": "héllo"}, None, {"note": None}]
    fields = [
        constant_field(7, 3, ">i4"),
        text_field(ids),
        integer_field(np.array([-(2**63), 0, 2**63 - 1]), ">i8"),
        integer_field(np.array([1, 2, 3], dtype=np.int16), ">i2"),
        float_field(latency, nan_is_null=True),
        float_field(latency, nan_is_null=False),
        blob_field(probabilities, 3),
        blob_field(None, 3),
        jsonb_field(texts, 3),
        text_field([None, "", "error"]),
    ]
    expected = [
        row(
            struct.pack(">i", 7),
            ids[i].encode(),
            struct.pack(">q", [-(2**63), 0, 2**63 - 1][i]),
            struct.pack(">h", i + 1),
            None if math.isnan(latency[i]) else struct.pack(">d", latency[i]),
            struct.pack(">d", latency[i]),
            struct.pack("<2d", *probabilities[i]),
            None,
            None if texts[i] is None else b"\x01" + orjson.dumps(texts[i]),
            [None, b"", b"error"][i],
        )
        for i in range(3)
    ]
    assert stream(fields) == SIGNATURE + b"".join(expected) + TRAILER


@pytest.mark.parametrize("rows_per_chunk", [1, 2, 3, 1000])
def test_chunks_cut_between_rows_and_join_to_the_whole(rows_per_chunk: int) -> None:
    n = 7
    fields = [
        integer_field(np.arange(n), ">i8"),
        text_field([f"id-{i}" * (i + 1) for i in range(n)]),
        float_field(np.array([1.0, math.nan] * 3 + [2.0]), nan_is_null=True),
    ]
    chunks = list(copy_chunks(fields, rows_per_chunk=rows_per_chunk))
    assert chunks[0] == SIGNATURE
    assert chunks[-1] == TRAILER
    assert len(chunks) == 2 + math.ceil(n / rows_per_chunk)
    assert b"".join(chunks) == stream(fields, rows_per_chunk=n)


def test_columns_that_are_all_null_or_never_null_are_fixed_width() -> None:
    assert float_field(np.array([1.0, 2.0]), nan_is_null=True).fixed is not None
    assert float_field(np.array([math.nan, math.nan]), nan_is_null=True).lengths.tolist() == [
        -1,
        -1,
    ]
    assert text_field([None, None]).fixed is not None
    assert jsonb_field(None, 2).lengths.tolist() == [-1, -1]


def test_embeddings_keep_their_dtype_little_endian() -> None:
    vectors = np.array([[1.5, -2.0, 3.25]], dtype=np.float32)
    assert stream([blob_field(vectors, 1)]) == SIGNATURE + row(struct.pack("<3f", *vectors[0])) + (
        TRAILER
    )


def test_integers_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range for int16"):
        integer_field(np.array([2**15]), ">i2")


def test_fields_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match=r"same number of rows, got \[1, 2\]"):
        list(copy_chunks([constant_field(1, 1, ">i4"), constant_field(1, 2, ">i4")]))
    with pytest.raises(ValueError, match="needs 2 values, got 1"):
        Field(lengths=np.zeros(2, dtype=np.int32), pieces=[b""])
    with pytest.raises(ValueError, match="at least 1, got 0"):
        list(copy_chunks([], rows_per_chunk=0))


def test_unencodable_text_fails_as_psycopg_would() -> None:
    with pytest.raises(UnicodeEncodeError):
        text_field(["\ud800"])
