"""Writer pool benchmark: records/s end to end through NATS JetStream into PostgreSQL.

    .venv/bin/python benchmarks/scale/writers.py [--records 200000] [--batch 1000]
        [--pg-url postgresql://postgres@127.0.0.1/postgres] [--nats nats://127.0.0.1:4222]
        [--write-results benchmarks/RESULTS.md]

A model with 20 numeric features, in a fresh PostgreSQL database. For each configuration
(1, 2 and 4 ``driftline writer --workers 1`` processes, then one process with 4 worker
threads) the writers are started on a stream of their own and waited for; then this process
publishes ``--records`` records in batches of ``--batch`` (what a sidecar publishes: one
spooled batch per message, ``Nats-Msg-Id`` and publish acknowledgements as in the sidecar)
while the writers store them. The time runs from the first publish until the last record is
committed in PostgreSQL; the table is emptied between configurations.

NATS, PostgreSQL, the writers and this publisher share one machine: read the numbers with
its core count (printed) in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import numpy as np
import sqlalchemy as sa
from nats.js import errors as js_errors
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from collectors.jetstream import JetStreamConfig
from collectors.payload import ModelBatch, encode
from collectors.publisher import JetStreamPublisher, PublisherMetrics
from collectors.spool import Position
from storage import FeatureSpec, PredictionBatch, create_session_factory, register_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import fresh_postgres, machine

FEATURES = 20
DRIFTLINE = Path(sys.executable).with_name("driftline")
CONFIGURATIONS = ((1, 1), (2, 1), (4, 1), (1, 4))  # (processes, worker threads each)
MARK = "<!-- scale/writers -->"
NATS_PY = importlib.metadata.version("nats-py")
SERVER = (
    subprocess.run(["nats-server", "--version"], capture_output=True, text=True, check=False)
    .stdout.strip()
    .removeprefix("nats-server: ")
)
END = "<!-- /scale/writers -->"


@dataclass(frozen=True)
class Outcome:
    processes: int
    threads: int
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def payloads(records: int, batch: int, run: str) -> list[bytes]:
    """The encoded batches of one run (request ids unique to the run)."""
    rng = np.random.default_rng(7)
    columns = {f"f{j}": rng.normal(size=batch) for j in range(FEATURES)}
    found = []
    for start in range(0, records, batch):
        n = min(batch, records - start)
        item = ModelBatch(
            "bench",
            "1",
            PredictionBatch(
                request_ids=[f"{run}-{start + k}" for k in range(n)],
                timestamps_us=np.arange(start, start + n, dtype=np.int64) + 1_800_000_000_000_000,
                features={name: value[:n] for name, value in columns.items()},
                predictions=rng.random(n),
            ),
        )
        found.append(encode(item))
    return found


def project_file(config: JetStreamConfig) -> str:
    features = ", ".join(f"{{name: f{j}, kind: numeric}}" for j in range(FEATURES))
    return (
        "version: 1\nmodels:\n  - name: bench\n    task: regression\n"
        f"    features: [{features}]\n"
        "transport:\n  type: jetstream\n"
        f"  servers: [{config.servers[0]}]\n  stream: {config.stream}\n"
        f"  subject_prefix: {config.subject_prefix}\n  consumer: {config.consumer}\n"
        f"  fetch_batch: {config.fetch_batch}\n  max_ack_pending: {config.max_ack_pending}\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_writers(
    directory: Path, database_url: str, processes: int, threads: int
) -> list[tuple[subprocess.Popen[bytes], int]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment.update(DRIFTLINE_DATABASE_URL=database_url, DRIFTLINE_LOG_LEVEL="WARNING")
    started = []
    for i in range(processes):
        port = free_port()
        with (directory / f"writer-{i}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(DRIFTLINE), "writer", "--workers", str(threads), "--port", str(port)],
                cwd=directory,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        started.append((process, port))
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"writer {i} did not start: {directory / f'writer-{i}.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return started


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.text("select count(*) from prediction_records")).scalar_one()
        )


def committed(ports: list[int]) -> int:
    """Records the writers committed, from their /metrics (cheaper than count(*) in a loop)."""
    total = 0.0
    for port in ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("driftline_writer_records_inserted_total "):
                total += float(line.split()[1])
    return int(total)


def run_one(
    engine: Engine, nats_url: str, processes: int, threads: int, records: int, batch: int
) -> Outcome:
    tag = uuid.uuid4().hex[:8]
    config = JetStreamConfig(
        servers=(nats_url,),
        stream=f"BENCH_{tag}",
        subject_prefix=f"bench.{tag}",
        consumer=f"writers-{tag}",
    )
    with engine.begin() as connection:
        connection.execute(sa.text("truncate prediction_records"))
    data = payloads(records, batch, tag)
    with tempfile.TemporaryDirectory(prefix="driftline-writers-") as tmp:
        directory = Path(tmp)
        (directory / "driftline.yaml").write_text(project_file(config))
        writers = start_writers(directory, engine.url.render_as_string(False), processes, threads)
        publisher = JetStreamPublisher(config, metrics=PublisherMetrics(CollectorRegistry()))
        try:
            started = time.perf_counter()
            feeder = threading.Thread(target=_publish, args=(publisher, data))
            feeder.start()
            ports = [port for _, port in writers]
            while committed(ports) < records:
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            feeder.join()
            if stored(engine) != records:
                raise SystemExit(f"expected {records} records, found {stored(engine)}")
        finally:
            publisher.close()
            for process, _ in writers:
                process.send_signal(signal.SIGTERM)
            for process, _ in writers:
                process.wait(60)
            asyncio.run(_delete_stream(config))
    return Outcome(processes, threads, records, seconds)


def _publish(publisher: JetStreamPublisher, data: list[bytes]) -> None:
    # Rounds of 64 batches, as a sidecar's writer thread reads its spool.
    for start in range(0, len(data), 64):
        entries = [(Position(1, start + i), p) for i, p in enumerate(data[start : start + 64])]
        publisher.publish(entries)


async def _delete_stream(config: JetStreamConfig) -> None:
    client = await nats.connect(servers=list(config.servers))
    with contextlib.suppress(js_errors.NotFoundError):
        await client.jetstream().delete_stream(config.stream)
    await client.close()


def table(outcomes: list[Outcome]) -> str:
    base = outcomes[0].rate
    lines = [
        "| writer processes × worker threads | records | seconds | records/s | vs 1 writer |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.processes} × {o.threads} | {o.records:,} | {o.seconds:.1f} | "
            f"{o.rate:,.0f} | {o.rate / base:.2f}× |"
        )
    return "\n".join(lines)


def write_results(path: Path, body: str) -> None:
    """Replace this benchmark's block in the issue-13 section (other blocks are kept)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{MARK}\n{body}\n{END}"
    if MARK in text and END in text:
        before, rest = text.split(MARK, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        heading = "## scale (issue 13)"
        if heading not in text:
            text = text.rstrip() + f"\n\n{heading}\n"
        head, tail = text.split(heading, 1)
        text = head + heading + "\n\n" + block + "\n" + tail.lstrip("\n")
        if not text.endswith("\n"):
            text += "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000, help="records per published batch")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--write-results", type=Path)
    args = parser.parse_args()
    outcomes = []
    with fresh_postgres(args.pg_url) as engine:
        with create_session_factory(engine)() as session, session.begin():
            register_model(
                session,
                name="bench",
                task="regression",
                version="1",
                features=[FeatureSpec(f"f{j}", "numeric") for j in range(FEATURES)],
            )
        server = ".".join(map(str, engine.dialect.server_version_info or ()))
        for processes, threads in CONFIGURATIONS:
            outcome = run_one(engine, args.nats, processes, threads, args.records, args.batch)
            print(
                f"{processes} × {threads}: {outcome.records:,} records in "
                f"{outcome.seconds:.1f} s = {outcome.rate:,.0f} records/s",
                flush=True,
            )
            outcomes.append(outcome)
    result = table(outcomes)
    print(result)
    if args.write_results:
        body = (
            "### Writers: end to end through JetStream (`benchmarks/scale/writers.py`)\n\n"
            f"Run on {dt.date.today().isoformat()}. "
            f"{machine(f'PostgreSQL {server}', f'nats-py {NATS_PY}', f'nats-server {SERVER}')}. "
            f"{args.records:,} records of {FEATURES} numeric features per row, published "
            f"in batches of {args.batch:,} records (one message each) while the writers "
            "store them; time from the first publish to the last commit. PostgreSQL, NATS, "
            f"the writers and the publisher share the machine's {os.cpu_count()} cores: once "
            "they are spent, more writers only queue.\n\n"
            f"{result}\n"
        )
        write_results(args.write_results, body)


if __name__ == "__main__":
    main()
