"""What every benchmark shares: the machine it ran on and its section of ``RESULTS.md``.

Benchmarks run as scripts (``python benchmarks/<name>/run.py``) and put this folder on
``sys.path`` themselves to import it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from storage import create_engine
from storage.migrations import upgrade


def machine(*versions: str) -> str:
    """CPU, cores, RAM and Python, then ``versions`` (e.g. ``"SQLite 3.40.1"``)."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024**2:.0f} GiB RAM"
    return ", ".join(
        [f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}", *versions]
    )


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the ``## name`` section of the results file (others are kept)."""
    today = dt.date.today().isoformat()
    section = f"## {name}\n\nRun on {today} with `benchmarks/{name}/run.py`.\n{body}"
    existing = path.read_text() if path.exists() else "# Benchmark results\n"
    parts = existing.split("\n## ")
    kept = [parts[0].rstrip() + "\n"] + [
        "## " + p.rstrip() + "\n" for p in parts[1:] if not p.startswith(f"{name}\n")
    ]
    path.write_text("\n".join([*kept, section]))


@contextmanager
def fresh_postgres(pg_url: str) -> Iterator[Engine]:
    """An engine on a new PostgreSQL database at the newest schema, dropped afterwards."""
    base = make_url(pg_url).set(drivername="postgresql+psycopg")
    name = f"driftline_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(base.set(database=name))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
