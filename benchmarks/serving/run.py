"""Serving benchmark: `driftline serve` against a minimal FastAPI app and MLServer, in one run.

    .venv/bin/python benchmarks/serving/run.py [--duration 8] [--warmup 2]
        [--concurrency 1,16,64] [--skip-mlserver] [--write-results benchmarks/RESULTS.md]

One model for all: scikit-learn ``LogisticRegression(max_iter=1000)`` trained on
``make_classification(5000 rows, 20 features, 10 informative, seed 0)``. Every request is one
row, ``POST /v2/models/clf/infer`` with one FP64 ``[1, 20]`` tensor, JSON only, HTTP/1.1
keep-alive, on 127.0.0.1. Servers run one at a time, each in its own process:

* ``driftline (tap in-process)``: ``serving`` with dynamic batching (64 rows, 1 ms),
  recording every prediction through a collector in the same process (queue, spool with
  fsync, bulk inserts into SQLite), as plain ``driftline serve`` does;
* ``driftline (tap → sidecar)``: the same, pushing every batch to a sidecar process that
  records it (``driftline serve --tap-to``); server CPU includes the sidecar's;
* ``driftline (tap off)``: the same without a tap;
* ``driftline, 2 workers (...)``: the same two with two worker processes sharing the port
  (``driftline serve --workers 2``; each worker pushes its own batches to the sidecar);
* ``driftline gRPC[, 2 workers] (tap → sidecar)``: the same model over the OIP gRPC port at
  C=64 only, driven by h2load (C HTTP/2 connections, one call in flight on each, a typed
  ``fp64_contents`` ``ModelInferRequest``); its error count is the server's own count of
  requests that did not answer ``ok`` (h2load sees only the HTTP status, not grpc-status);
* ``naive FastAPI``: an ``async def`` route that parses JSON and calls ``predict`` per request
  (uvicorn with uvloop and httptools, one process);
* ``MLServer 1.7``: ``mlserver_sklearn`` with adaptive batching (32 rows, 5 ms) and
  ``parallel_workers: 0`` (its fastest configuration on two cores), installed into
  ``benchmarks/.cache/mlserver-venv`` with ``uvloop<0.22`` (newer uvloop kills its workers).

The REST load generator is wrk (closed loop: C connections, each sends its next request when the
previous one is answered), one thread, a warm-up then a timed run per concurrency. Its CPU
is measured (``getrusage`` of the finished child) and reported as a share of one core, as is
the server's (``/proc/<pid>/stat``), so a reader can tell a saturated server from a
saturated generator.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import joblib
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO / "benchmarks" / ".data" / "serving"
MLSERVER_VENV = REPO / "benchmarks" / ".cache" / "mlserver-venv"
TICKS = os.sysconf("SC_CLK_TCK")
PRIMARY = "driftline (tap → sidecar)"
"""The configuration the targets are checked on: serving with batching and the tap on,
recorded by a sidecar process (``driftline serve --tap-to``), as deployed in production."""


GRPC_PATH = "/inference.GRPCInferenceService/ModelInfer"
TWO_WORKERS = "driftline, 2 workers (tap → sidecar)"
GRPC_ONE, GRPC_TWO = "driftline gRPC (tap → sidecar)", "driftline gRPC, 2 workers (tap → sidecar)"


@dataclass(frozen=True)
class Cell:
    server: str
    concurrency: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cores: float
    generator_cores: float
    other_cores: float = 0.0
    """CPU the rest of the machine used meanwhile (other tenants of a shared box)."""


def prepare() -> tuple[Path, bytes]:
    """Train and save the model; the request body every server gets."""
    DATA.mkdir(parents=True, exist_ok=True)
    features, labels = make_classification(
        n_samples=5000, n_features=20, n_informative=10, random_state=0
    )
    model = LogisticRegression(max_iter=1000).fit(features[:4000], labels[:4000])
    path = DATA / "model.joblib"
    joblib.dump(model, path)
    row = features[4000].tolist()
    body = {"inputs": [{"name": "predict", "shape": [1, 20], "datatype": "FP64", "data": row}]}
    return path, json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_mlserver() -> Path | None:
    """The MLServer venv's binary, installing it on first use."""
    binary = MLSERVER_VENV / "bin" / "mlserver"
    if binary.exists():
        return binary
    subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
    packages = ["mlserver==1.7.*", "mlserver-sklearn==1.7.*", "uvloop<0.22", "httptools"]
    pip = [str(MLSERVER_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *packages]
    if subprocess.run(pip, check=False).returncode != 0:
        return None
    return binary


def mlserver_folder(model: Path) -> Path:
    folder = DATA / "mlserver"
    (folder / "clf").mkdir(parents=True, exist_ok=True)
    shutil.copy(model, folder / "clf" / "model.joblib")
    settings = {"debug": False, "parallel_workers": 0, "metrics_endpoint": None}
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": "clf",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
        "max_batch_size": 32,
        "max_batch_time": 0.005,
    }
    (folder / "clf" / "model-settings.json").write_text(json.dumps(model_settings))
    return folder


def grpc_body(row: list[float]) -> bytes:
    """One length-prefixed gRPC message: a ModelInferRequest with typed FP64 contents."""
    from serving.grpc import grpc_predict_v2_pb2 as pb

    tensor = pb.ModelInferRequest.InferInputTensor(name="predict", datatype="FP64", shape=[1, 20])
    tensor.contents.fp64_contents.extend(row)
    message = pb.ModelInferRequest(model_name="clf", inputs=[tensor]).SerializeToString()
    return b"\x00" + len(message).to_bytes(4, "big") + message


def commands(
    model: Path, port: int, grpc_port: int, mlserver: Path | None
) -> dict[str, tuple[list[str], dict[str, str], Path]]:
    python = sys.executable
    env = {"PYTHONPATH": str(REPO)}
    server = [python, str(HERE / "driftline_server.py"), str(model), str(port)]
    servers = {
        "driftline (tap in-process)": (
            [python, str(HERE / "driftline_server.py"), str(model), str(port), "on"],
            env,
            REPO,
        ),
        "driftline (tap → sidecar)": (
            [python, str(HERE / "driftline_server.py"), str(model), str(port), "push"],
            env,
            REPO,
        ),
        "driftline (tap off)": (
            [python, str(HERE / "driftline_server.py"), str(model), str(port), "off"],
            env,
            REPO,
        ),
        TWO_WORKERS: ([*server, "push", "2"], env, REPO),
        "driftline, 2 workers (tap off)": ([*server, "off", "2"], env, REPO),
        GRPC_ONE: ([*server, "push", "1", str(grpc_port)], env, REPO),
        GRPC_TWO: ([*server, "push", "2", str(grpc_port)], env, REPO),
        "naive FastAPI": (
            [
                python,
                "-m",
                "uvicorn",
                "naive_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
            ],
            {"MODEL_PATH": str(model)},
            HERE,
        ),
    }
    if mlserver is not None:
        folder = mlserver_folder(model)
        servers["MLServer 1.7"] = (
            [str(mlserver), "start", str(folder)],
            {"MLSERVER_HTTP_PORT": str(port), "MLSERVER_GRPC_PORT": str(free_port())},
            folder,
        )
    return servers


def start(
    argv: list[str], env: dict[str, str], cwd: Path, port: int, body: bytes
) -> subprocess.Popen[bytes]:
    log = (DATA / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        argv, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited; see {log.name}")
        try:
            answer = httpx.post(
                f"http://127.0.0.1:{port}/v2/models/clf/infer", content=body, timeout=2
            )
            if answer.status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError(f"{argv[0]} did not answer within 120 s")


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / TICKS


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    port: int, script: Path, concurrency: int, seconds: float, cpus: str | None = None
) -> tuple[str, float]:
    """wrk's output and its CPU seconds (pinned to ``cpus`` with taskset when given)."""
    argv = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/v2/models/clf/infer",
    ]
    if cpus is not None:
        argv = ["taskset", "-c", cpus, *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(argv, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return run.stdout, used


def start_sidecar(argv: list[str]) -> tuple[subprocess.Popen[bytes], list[str]]:
    """Start the sidecar the push variant taps into; the server's argv with its address."""
    folder, port = DATA / "sidecar", free_port()
    token = folder / "token"
    token.unlink(missing_ok=True)
    log = (DATA / "sidecar.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(HERE / "sidecar_server.py"), str(folder), str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not token.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the sidecar did not start; see {log.name}")
        time.sleep(0.1)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    pushed = f"push:http://127.0.0.1:{port}:{token}"
    return process, [pushed if arg == "push" else arg for arg in argv]


def measure(
    name: str,
    pids: list[int],
    port: int,
    script: Path,
    concurrency: int,
    args: argparse.Namespace,
) -> Cell:
    wrk(port, script, concurrency, args.warmup)
    server_before, busy_before = sum(cpu_seconds(pid) for pid in tree(pids)), busy_seconds()
    started = time.perf_counter()
    output, generator = wrk(port, script, concurrency, args.duration)
    elapsed = time.perf_counter() - started
    server = sum(cpu_seconds(pid) for pid in tree(pids)) - server_before
    others = max(0.0, busy_seconds() - busy_before - server - generator)
    latencies = {q: float(v) * _UNIT[u] for q, v, u in _LATENCY.findall(output)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Cell(
        name,
        concurrency,
        rate,
        latencies["50"],
        latencies["99"],
        count,
        server / elapsed,
        generator / elapsed,
        others / elapsed,
    )


def h2load(port: int, body: Path, concurrency: int, seconds: float) -> tuple[str, float, Path]:
    """Run h2load; its output, its CPU seconds and its per-request log."""
    log = DATA / "h2load.log"
    log.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(
        [
            "h2load",
            f"-c{concurrency}",
            "-m1",
            f"-D{max(1, round(seconds))}",
            "-d",
            str(body),
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            "--log-file",
            str(log),
            f"http://127.0.0.1:{port}{GRPC_PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return run.stdout, used, log


def not_ok(port: int) -> float:
    """Requests the server counted with a status other than ok or timeout, over all workers
    (the calls h2load cancels when its time is up are tapped as timeouts: not errors)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = re.findall(
        r'^driftline_serving_requests_total\{[^}]*status="(\w+)"[^}]*\} (\S+)$', text, re.M
    )
    return sum(float(value) for status, value in found if status not in ("ok", "timeout"))


def measure_grpc(
    name: str,
    pids: list[int],
    ports: tuple[int, int],
    body: Path,
    concurrency: int,
    args: argparse.Namespace,
) -> Cell:
    port, grpc_port = ports
    h2load(grpc_port, body, concurrency, args.warmup)
    failed_before = not_ok(port)
    server_before, busy_before = sum(cpu_seconds(pid) for pid in tree(pids)), busy_seconds()
    started = time.perf_counter()
    output, generator, log = h2load(grpc_port, body, concurrency, args.duration)
    elapsed = time.perf_counter() - started
    server = sum(cpu_seconds(pid) for pid in tree(pids)) - server_before
    others = max(0.0, busy_seconds() - busy_before - server - generator)
    rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    durations = sorted(int(row[2]) / 1000 for row in rows)
    http_failures = sum(1 for row in rows if row[1] != "200")
    rate = float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", output).group(1))  # type: ignore[union-attr]
    return Cell(
        name,
        concurrency,
        rate,
        durations[len(durations) // 2],
        durations[min(len(durations) - 1, int(len(durations) * 0.99))],
        http_failures + round(not_ok(port) - failed_before),
        server / elapsed,
        generator / elapsed,
        others / elapsed,
    )


def tree(pids: list[int]) -> list[int]:
    """``pids`` and their descendants (the workers of a supervisor)."""
    found, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            todo += [int(child) for child in children.read_text().split()]
    return found


def table(cells: list[Cell]) -> str:
    lines = [
        "| server | C | req/s | p50 ms | p99 ms | errors | server CPU (cores) "
        "| load generator CPU (cores) | other tenants' CPU (cores) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.server} | {c.concurrency} | {c.requests_per_second:,.0f} | {c.p50_ms:.2f} | "
            f"{c.p99_ms:.2f} | {c.errors} | {c.server_cores:.2f} | {c.generator_cores:.3f} | "
            f"{c.other_cores:.2f} |"
        )
    return "\n".join(lines)


def verdicts(cells: list[Cell]) -> str:
    at = {(c.server, c.concurrency): c for c in cells}
    lines = []
    ours, naive, ml = (
        at.get((PRIMARY, 64)),
        at.get(("naive FastAPI", 64)),
        at.get(("MLServer 1.7", 64)),
    )
    if ours and naive:
        ratio = ours.requests_per_second / naive.requests_per_second
        lines.append(
            f"- C=64 throughput, {PRIMARY} / naive FastAPI: {ratio:.2f}x "
            f"(target >= 3x): {'PASS' if ratio >= 3 else 'FAIL'}"
        )
        lines.append(
            f"- C=64 p99, driftline {ours.p99_ms:.1f} ms vs naive {naive.p99_ms:.1f} ms "
            f"(target: no worse): {'PASS' if ours.p99_ms <= naive.p99_ms else 'FAIL'}"
        )
    if ours and ml:
        ratio = ours.requests_per_second / ml.requests_per_second
        lines.append(
            f"- C=64 throughput, {PRIMARY} / MLServer: {ratio:.2f}x "
            f"(target >= 1x): {'PASS' if ratio >= 1 else 'FAIL'}"
        )
        lines.append(
            f"- C=64 p99, driftline {ours.p99_ms:.1f} ms vs MLServer {ml.p99_ms:.1f} ms "
            f"(target: no worse): {'PASS' if ours.p99_ms <= ml.p99_ms else 'FAIL'}"
        )
    one, naive_one = at.get((PRIMARY, 1)), at.get(("naive FastAPI", 1))
    if one and naive_one:
        gap = one.p50_ms - naive_one.p50_ms
        lines.append(
            f"- C=1 p50, driftline {one.p50_ms:.2f} ms vs naive {naive_one.p50_ms:.2f} ms "
            f"(target: within 1 ms): {'PASS' if gap <= 1 else 'FAIL'}"
        )
    for tapped, untapped in (
        (PRIMARY, "driftline (tap off)"),
        (TWO_WORKERS, "driftline, 2 workers (tap off)"),
    ):
        on, off = at.get((tapped, 64)), at.get((untapped, 64))
        if on and off:
            cost = 1 - on.requests_per_second / off.requests_per_second
            lines.append(
                f"- tap cost at C=64 ({tapped} vs tap off): {cost:+.1%} throughput "
                f"(target <= 5%): {'PASS' if cost <= 0.05 else 'FAIL'}; "
                f"p99 {on.p99_ms - off.p99_ms:+.2f} ms (target <= 1 ms): "
                f"{'PASS' if on.p99_ms - off.p99_ms <= 1 else 'FAIL'}"
            )
    two = at.get((TWO_WORKERS, 64))
    if two and naive:
        ratio = two.requests_per_second / naive.requests_per_second
        lines.append(
            f"- C=64 throughput, {TWO_WORKERS} / naive FastAPI: {ratio:.2f}x "
            f"(target >= 3x): {'PASS' if ratio >= 3 else 'FAIL'}; "
            f"p99 {two.p99_ms:.1f} ms vs naive {naive.p99_ms:.1f} ms"
        )
    if two and ours:
        lines.append(
            f"- C=64, 2 workers vs 1 (tap → sidecar): "
            f"{two.requests_per_second / ours.requests_per_second:.2f}x throughput"
        )
    for rest, grpc_row in ((PRIMARY, GRPC_ONE), (TWO_WORKERS, GRPC_TWO)):
        r, g = at.get((rest, 64)), at.get((grpc_row, 64))
        if r and g:
            lines.append(
                f"- C=64, {grpc_row} / REST: {g.requests_per_second / r.requests_per_second:.2f}x "
                f"throughput, p99 {g.p99_ms:.1f} ms vs {r.p99_ms:.1f} ms"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="timed seconds per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per cell")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("h2load") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk", "nghttp2-client"], check=True)
    model, body = prepare()
    grpc_file = DATA / "request.grpc"
    grpc_file.write_bytes(grpc_body(json.loads(body)["inputs"][0]["data"]))
    script = DATA / "request.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    mlserver = None if args.skip_mlserver else ensure_mlserver()
    cells: list[Cell] = []
    port, grpc_port = free_port(), free_port()
    for name, (argv, env, cwd) in commands(model, port, grpc_port, mlserver).items():
        sidecar = None
        if "push" in argv:
            sidecar, argv = start_sidecar(argv)
        process = start(argv, env, cwd, port, body)
        pids = [process.pid] + ([sidecar.pid] if sidecar else [])
        grpc = name in (GRPC_ONE, GRPC_TWO)
        levels = [64] if grpc else [int(c) for c in args.concurrency.split(",")]
        try:
            for concurrency in levels:
                if grpc:
                    ports = (port, grpc_port)
                    cell = measure_grpc(name, pids, ports, grpc_file, concurrency, args)
                else:
                    cell = measure(name, pids, port, script, concurrency, args)
                cells.append(cell)
                print(
                    f"{name:22} C={concurrency:<3} {cell.requests_per_second:9,.0f} req/s  "
                    f"p50 {cell.p50_ms:7.2f} ms  p99 {cell.p99_ms:7.2f} ms",
                    flush=True,
                )
        finally:
            for running in [process, *([sidecar] if sidecar else [])]:
                running.send_signal(signal.SIGINT)
                try:
                    running.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    running.kill()
    versions = [
        f"wrk {subprocess.run(['wrk', '-v'], capture_output=True, text=True).stdout.split()[1]}",
        subprocess.run(["h2load", "--version"], capture_output=True, text=True).stdout.strip(),
    ]
    body_text = f"\nMachine: {machine(*versions)}.\n\n{table(cells)}\n\n{verdicts(cells)}\n"
    print(body_text)
    if args.write_results:
        write_section(args.write_results, "serving", body_text)


if __name__ == "__main__":
    main()
