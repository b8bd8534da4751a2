"""What the tap costs the inference server: tap off vs tap → sidecar, interleaved, repeated.

    .venv/bin/python benchmarks/serving/tap_cost.py [--pairs 5] [--duration 10] [--warmup 2]
        [--concurrency 64] [--variants 1w,2w,1w-pinned,1w-isolated]

The server, model and request are those of ``run.py`` (``driftline_server.py``: dynamic
batching of 64 rows within 1 ms, one FP64 ``[1, 20]`` row per request, wrk with one thread,
C keep-alive connections on 127.0.0.1). Per variant, two servers run side by side for the
whole variant: one with the tap off, one pushing every batch to a ``driftline sidecar``
(``sidecar_server.py``: spool and SQLite store). wrk loads them in turn, off, on, off, on, …
for ``--pairs`` pairs; the idle one waits. Each cell reports req/s and p99 from wrk, and the
CPU time (``/proc/<pid>/stat`` utime + stime, children included) of the server process tree
and of the sidecar, divided by the requests wrk completed: the server's CPU per request is
the tap's own cost in the server, whether or not the sidecar competes with it for cores.

Variants: ``1w`` one worker; ``2w`` two worker processes (``--workers 2``); ``1w-pinned`` one
worker pinned to CPU 0 and the sidecar and wrk to CPU 1 (``taskset``), so the sidecar no
longer takes the server's core (other tenants of the machine still can); ``1w-isolated`` as
pinned, with the sidecar at the lowest CPU priority (``nice 19``). On a 2-core machine wrk,
which measures the latencies, shares a core with the sidecar, and each push's burst of
sidecar work (spooling some 0.5 s of batches) delays wrk's reads by a few milliseconds:
that shows in p99 as if the server were slower. Isolated, wrk runs first and what remains
is the server's own latency with and without its tap.

Targets (issue 7): with the tap on, the server loses <= 5 % throughput and <= 1 ms p99 at
C=64. Verdicts compare the medians of the cells; the pairwise on/off ratios and the server's
CPU per request are printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from _common import machine  # noqa: E402  (scripts beside this one)
from run import (  # noqa: E402  (a script beside this one)
    DATA,
    REPO,
    busy_seconds,
    cpu_seconds,
    free_port,
    prepare,
    start,
    start_sidecar,
    tree,
    wrk,
)

_LATENCY = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}
VARIANTS = {
    "1w": (1, False, False),
    "2w": (2, False, False),
    "1w-pinned": (1, True, False),
    "1w-isolated": (1, True, True),
}
"""Variant name -> (workers, pinned, sidecar at nice 19)."""


@dataclass(frozen=True)
class Cell:
    variant: str
    tap: str
    """``off`` or ``on`` (→ sidecar)."""
    pair: int
    requests: int
    requests_per_second: float
    p99_ms: float
    errors: int
    server_cpu_us: float
    """Server process tree CPU per request, microseconds."""
    sidecar_cpu_us: float
    generator_cores: float
    other_cores: float


def parse_wrk(output: str) -> tuple[int, float, float, int]:
    """Requests completed, req/s, p99 ms and errors from wrk's output."""
    completed = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = _LATENCY.search(output)
    if completed is None or rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found.group(1))
    if found := re.search(r"Socket errors: (.*)", output):
        errors += sum(int(n) for n in re.findall(r"\d+", found.group(1)))
    p99_ms = float(p99.group(1)) * _UNIT[p99.group(2)]
    return int(completed.group(1)), float(rate.group(1)), p99_ms, errors


def measure(
    variant: str,
    tap: str,
    pair: int,
    server: list[int],
    sidecar: int | None,
    port: int,
    script: Path,
    args: argparse.Namespace,
    cpus: str | None,
) -> Cell:
    wrk(port, script, args.concurrency, args.warmup, cpus)
    pids = tree(server)
    sidecar_before = cpu_seconds(sidecar) if sidecar else 0.0
    before, busy_before = sum(cpu_seconds(pid) for pid in pids), busy_seconds()
    started = time.perf_counter()
    output, generator = wrk(port, script, args.concurrency, args.duration, cpus)
    elapsed = time.perf_counter() - started
    used = sum(cpu_seconds(pid) for pid in tree(server)) - before
    sidecar_used = (cpu_seconds(sidecar) - sidecar_before) if sidecar else 0.0
    others = max(0.0, busy_seconds() - busy_before - used - sidecar_used - generator)
    requests, rate, p99_ms, errors = parse_wrk(output)
    per = 1e6 / max(requests, 1)
    return Cell(
        variant,
        tap,
        pair,
        requests,
        rate,
        p99_ms,
        errors,
        used * per,
        sidecar_used * per,
        generator / elapsed,
        others / elapsed,
    )


def stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def run_variant(
    variant: str, model: Path, body: bytes, script: Path, args: argparse.Namespace
) -> list[Cell]:
    """Both servers of one variant, loaded in turn, ``args.pairs`` times."""
    workers, pinned, niced = VARIANTS[variant]
    python = sys.executable
    env = {"PYTHONPATH": str(REPO)}
    server_cpus = ["taskset", "-c", "0"] if pinned else []
    off_port, on_port = free_port(), free_port()
    script_path = str(HERE / "driftline_server.py")
    off_argv = [*server_cpus, python, script_path, str(model), str(off_port), "off", str(workers)]
    sidecar, on_argv = start_sidecar(
        [*server_cpus, python, script_path, str(model), str(on_port), "push", str(workers)]
    )
    processes = [sidecar]
    try:
        if pinned:
            pin = ["taskset", "-a", "-p", "-c", "1", str(sidecar.pid)]
            subprocess.run(pin, check=True, capture_output=True)
        if niced:
            renice = ["renice", "-n", "19", "-p", str(sidecar.pid)]
            subprocess.run(renice, check=True, capture_output=True)
        off = start(off_argv, env, REPO, off_port, body)
        processes.append(off)
        on = start(on_argv, env, REPO, on_port, body)
        processes.append(on)
        cpus = "1" if pinned else None
        cells = []
        for pair in range(args.pairs):
            for tap, process, port, side in (
                ("off", off, off_port, None),
                ("on", on, on_port, sidecar.pid),
            ):
                cell = measure(variant, tap, pair, [process.pid], side, port, script, args, cpus)
                cells.append(cell)
                print(
                    f"{variant:10} tap {tap:3} pair {pair}: {cell.requests_per_second:8,.0f} req/s"
                    f"  p99 {cell.p99_ms:6.1f} ms  server {cell.server_cpu_us:6.1f} µs/req"
                    f"  sidecar {cell.sidecar_cpu_us:5.1f} µs/req"
                    f"  others {cell.other_cores:.2f} cores",
                    flush=True,
                )
        return cells
    finally:
        stop(processes[::-1])


def spread(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    """Median [min–max]."""
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}–{fmt(max(values))}]"


def table(cells: list[Cell]) -> str:
    lines = [
        "| variant | tap | cells | req/s | p99 ms | server CPU µs/req | sidecar CPU µs/req "
        "| errors | wrk CPU (cores) | other tenants' CPU (cores) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant in dict.fromkeys(c.variant for c in cells):
        for tap in ("off", "on"):
            group = [c for c in cells if c.variant == variant and c.tap == tap]
            if not group:
                continue
            lines.append(
                f"| {variant} | {'off' if tap == 'off' else '→ sidecar'} | {len(group)} | "
                f"{spread([c.requests_per_second for c in group], lambda v: f'{v:,.0f}')} | "
                f"{spread([c.p99_ms for c in group], lambda v: f'{v:.1f}')} | "
                f"{spread([c.server_cpu_us for c in group], lambda v: f'{v:.1f}')} | "
                f"{spread([c.sidecar_cpu_us for c in group], lambda v: f'{v:.1f}')} | "
                f"{sum(c.errors for c in group)} | "
                f"{statistics.median(c.generator_cores for c in group):.2f} | "
                f"{spread([c.other_cores for c in group], lambda v: f'{v:.2f}')} |"
            )
    return "\n".join(lines)


def verdicts(cells: list[Cell]) -> str:
    lines = []
    for variant in dict.fromkeys(c.variant for c in cells):
        off = [c for c in cells if c.variant == variant and c.tap == "off"]
        on = [c for c in cells if c.variant == variant and c.tap == "on"]
        if not off or not on:
            continue
        rate_off = statistics.median(c.requests_per_second for c in off)
        rate_on = statistics.median(c.requests_per_second for c in on)
        loss = 1 - rate_on / rate_off
        pairs = list(zip(off, on, strict=True))
        paired = [1 - b.requests_per_second / a.requests_per_second for a, b in pairs]
        p99 = statistics.median(c.p99_ms for c in on) - statistics.median(c.p99_ms for c in off)
        p99_paired = [b.p99_ms - a.p99_ms for a, b in pairs]
        cpu_off = statistics.median(c.server_cpu_us for c in off)
        cpu_on = statistics.median(c.server_cpu_us for c in on)
        lines.append(
            f"- {variant}: throughput lost to the tap {loss:+.1%} (pairs: "
            f"{', '.join(f'{v:+.1%}' for v in paired)}) (target <= 5%): "
            f"{'PASS' if loss <= 0.05 else 'FAIL'}; p99 {p99:+.1f} ms (pairs: "
            f"{', '.join(f'{v:+.1f}' for v in p99_paired)}) (target <= 1 ms): "
            f"{'PASS' if p99 <= 1 else 'FAIL'}"
        )
        lines.append(
            f"- {variant}: server CPU per request {cpu_off:.1f} µs off, {cpu_on:.1f} µs on "
            f"({cpu_on - cpu_off:+.1f} µs, {cpu_on / cpu_off - 1:+.1%}: the throughput a "
            f"CPU-bound server loses to the tap itself is {1 - cpu_off / cpu_on:.1%}, "
            f"target <= 5%: {'PASS' if 1 - cpu_off / cpu_on <= 0.05 else 'FAIL'}); "
            f"sidecar {statistics.median(c.sidecar_cpu_us for c in on):.1f} µs per request"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--pairs", type=int, default=5, help="off/on pairs per variant")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per cell")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--variants", default="1w,2w,1w-pinned,1w-isolated", help=", ".join(VARIANTS)
    )
    args = parser.parse_args()
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    if "1w-pinned" in chosen and (os.cpu_count() or 1) < 2:
        parser.error("1w-pinned needs two CPUs")
    model, body = prepare()
    script = DATA / "request.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    cells: list[Cell] = []
    for variant in chosen:
        cells += run_variant(variant, model, body, script, args)
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"\nMachine: {machine(f'wrk {version}')}. C={args.concurrency}, {args.pairs} off/on "
        f"pairs per variant, {args.duration:g} s per cell after {args.warmup:g} s warm-up; "
        "medians [min–max].\n"
    )
    print(table(cells))
    print()
    print(verdicts(cells))


if __name__ == "__main__":
    main()
