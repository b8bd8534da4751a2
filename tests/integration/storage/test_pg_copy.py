"""The binary COPY payload through a real PostgreSQL server: every kind of column, NULLs,
NaN, unicode and extreme values read back as written, and the same rows as psycopg's own
``write_row`` stores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from sqlalchemy.engine import make_url

from storage.pg_copy import (
    blob_field,
    copy_chunks,
    float_field,
    integer_field,
    jsonb_field,
    text_field,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

COLUMNS = "a int2, b int4, c int8, d float8, e float8, f bytea, g text, h jsonb"


@pytest.fixture
def connection(fresh_postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    url = make_url(fresh_postgres_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        conn.execute(f"CREATE TABLE ours ({COLUMNS})")
        conn.execute(f"CREATE TABLE theirs ({COLUMNS})")
        yield conn


def test_round_trip_matches_psycopg_write_row(connection: psycopg.Connection[Any]) -> None:
    rng = np.random.default_rng(3)
    n = 1_000
    a = rng.integers(-(2**15), 2**15, n).astype(np.int16)
    b = rng.integers(-(2**31), 2**31, n).astype(np.int32)
    c = rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64)
    c[:2] = [-(2**63), 2**63 - 1]
    d = rng.normal(size=n) * 1e300
    d[::7] = math.nan
    e = rng.normal(size=n)
    e[::5] = math.nan
    f = rng.normal(size=(n, 3))
    f[1, 1] = math.nan
    g: list[str | None] = [None if i % 11 == 0 else f"ïd-{i}-😀" * (i % 4) for i in range(n)]
    g[4] = "x" * 100_000
    h: list[Any] = [None if i % 3 == 0 else {"note": g[i], "n": None} for i in range(n)]
    fields = [
        integer_field(a, ">i2"),
        integer_field(b, ">i4"),
        integer_field(c, ">i8"),
        float_field(d, nan_is_null=True),
        float_field(e, nan_is_null=False),
        blob_field(f, n),
        text_field(g),
        jsonb_field(h, n),
    ]
    with connection.cursor() as cursor:
        with cursor.copy("COPY ours FROM STDIN (FORMAT BINARY)") as copy:
            for chunk in copy_chunks(fields, rows_per_chunk=97):
                copy.write(chunk)
        assert cursor.rowcount == n
        with cursor.copy("COPY theirs FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int2", "int4", "int8", "float8", "float8", "bytea", "text", "jsonb"])
            for i in range(n):
                copy.write_row(
                    (
                        int(a[i]),
                        int(b[i]),
                        int(c[i]),
                        None if math.isnan(d[i]) else float(d[i]),
                        float(e[i]),
                        f[i].astype("<f8").tobytes(),
                        g[i],
                        None if h[i] is None else psycopg.types.json.Jsonb(h[i]),
                    )
                )
        # Every row of one table is in the other (NaN = NaN for float8 in PostgreSQL).
        cursor.execute(
            "SELECT count(*) FROM (SELECT * FROM ours EXCEPT ALL SELECT * FROM theirs) x"
        )
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT count(*) FROM (SELECT * FROM theirs EXCEPT ALL SELECT * FROM ours) x"
        )
        assert cursor.fetchone() == (0,)
        # NaN stays NaN where it is not NULL; NULL text and JSON stay NULL.
        cursor.execute("SELECT e, d, g, h FROM ours WHERE c = %s", (-(2**63),))
        e0, d0, g0, h0 = cursor.fetchone() or ()
        assert math.isnan(e0)
        assert (d0, g0, h0) == (None, None, None)
        cursor.execute("SELECT length(g), h FROM ours WHERE b = %s", (int(b[4]),))
        assert cursor.fetchone() == (100_000, {"note": "x" * 100_000, "n": None})
