"""Online learning through a concept change, and through poisoned labels.

    .venv/bin/python benchmarks/online/run.py [--n 12000] [--seed 20261125]
        [--write-results benchmarks/RESULTS.md]

A river logistic regression (standardised inputs, SGD at 0.5) is trained on 2,000 examples
of a hyperplane in four uniform features (5 % label noise), then deployed twice: **online**
(Driftline's learner: test-then-train in batches of 32, snapshots every 500 examples, the
default guard) and **frozen** (the same model, never updated). Two streams follow:

- **rotating hyperplane**: from example 4,000 the hyperplane turns by 90° over 4,000
  examples, then stays;
- **poisoned labels**: from example 6,000 the feedback source flips every label (the
  concept does not change).

The table gives the prequential accuracy per 1,000 examples against the *true* labels: for
the online model, of the version serving at that moment; for the frozen model, of the
initial one. It also lists every guard alarm and what it did.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, write_section

from serving.config import FeatureInput, ModelConfig
from serving.online.config import OnlineConfig
from serving.online.learner import Learner
from serving.online.memory import MemoryStore
from serving.online.runtime import load_model

FEATURES = ("f0", "f1", "f2", "f3")
CLASSES = ("no", "yes")
WARMUP = 2_000
BLOCK = 1_000


def hyperplane(
    n: int, *, seed: int, rotate_from: int | None, rotate_over: int = 4_000
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Features in [-1, 1]^4 and the class of each row (1 above the hyperplane)."""
    rng = np.random.default_rng(seed)
    rows = rng.uniform(-1, 1, (n, len(FEATURES)))
    angle = np.zeros(n)
    if rotate_from is not None:
        angle = np.clip((np.arange(n) - rotate_from) / rotate_over, 0, 1) * np.pi / 2
    above = rows[:, 0] * np.cos(angle) + rows[:, 1] * np.sin(angle) > 0
    noise = rng.random(n) < 0.05
    return rows, (above ^ noise).astype(np.int64)


def initial_model(rows: NDArray[np.float64], classes: NDArray[np.int64]) -> Any:
    from river import linear_model, optim, preprocessing

    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(
        optimizer=optim.SGD(0.5)
    )
    for row, y in zip(rows.tolist(), classes.tolist(), strict=True):
        model.learn_one(dict(zip(FEATURES, row, strict=True)), bool(y))
    return model


def run_stream(
    rows: NDArray[np.float64],
    truth: NDArray[np.int64],
    fed: NDArray[np.int64],
    model: Any,
    directory: Path,
) -> dict[str, Any]:
    """Feed ``fed`` labels to a learner; score each block on ``truth``."""
    import models_module  # type: ignore[import-not-found]  # the module below, on sys.path

    models_module.MODEL = model
    learning = OnlineConfig(
        task="binary_classification",
        classes=CLASSES,
        labels="boolean",
        snapshot_dir=str(directory),
        snapshot_seconds=1e9,
    )
    config = ModelConfig(
        name="bench",
        version="1",
        runtime="python",
        uri="models_module:MODEL",
        features=tuple(FeatureInput(name) for name in FEATURES),
        learning=learning,
    )
    store = MemoryStore(len(FEATURES))
    served: dict[str, Any] = {}

    def publish(snapshot: ModelConfig) -> None:
        served["config"] = snapshot
        served["model"] = load_model(snapshot)

    learner = Learner(config, store, publish=publish)
    publish(learner.start())
    frozen = load_model(config)
    online_curve, frozen_curve, versions = [], [], []
    labels = np.array(CLASSES, dtype=object)
    started = time.perf_counter()
    for start in range(WARMUP, len(rows), BLOCK):
        block = slice(start, min(start + BLOCK, len(rows)))
        right_online = 0
        for at in range(block.start, block.stop, 32):
            part = slice(at, min(at + 32, block.stop))
            answers = served["model"].predict(rows[part])  # what callers got
            right_online += int((answers == labels[truth[part]]).sum())
            ids = [f"r{i}" for i in range(part.start, part.stop)]
            store.add(ids, rows[part], fed[part])
            while store.pending and not learner.frozen:
                learner.step()
        size = block.stop - block.start
        online_curve.append(right_online / size)
        frozen_answers = frozen.predict(rows[block])
        frozen_curve.append(float((frozen_answers == labels[truth[block]]).mean()))
        versions.append(served["config"].version)
    seconds = time.perf_counter() - started
    alarms = [
        (event.kind, event.reason, event.details.get("restored"), event.details.get("metric_now"))
        for event in store.events
    ]
    return {
        "online": online_curve,
        "frozen": frozen_curve,
        "versions": versions,
        "alarms": alarms,
        "seconds": seconds,
        "learnt": sum(len(u.learnt) for u in store.updates),
        "refused": sum(len(u.refused) for u in store.updates),
    }


def table(result: dict[str, Any], n: int) -> str:
    lines = [
        "| examples | online (serving version) | frozen |",
        "|---|---|---|",
    ]
    for i, (online, frozen, version) in enumerate(
        zip(result["online"], result["frozen"], result["versions"], strict=True)
    ):
        start = WARMUP + i * BLOCK
        stop = min(start + BLOCK, n)
        lines.append(f"| {start:,}–{stop:,} | {online:.3f} ({version}) | {frozen:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args(argv)

    module_dir = Path(tempfile.mkdtemp(prefix="driftline-online-"))
    (module_dir / "models_module.py").write_text("MODEL = None\n")
    sys.path.insert(0, str(module_dir))

    rows, truth = hyperplane(args.n, seed=args.seed, rotate_from=4_000)
    base = initial_model(rows[:WARMUP], truth[:WARMUP])
    sections = []
    rotating = run_stream(rows, truth, truth, copy.deepcopy(base), module_dir / "rotating")
    sections.append(("rotating hyperplane (90° from example 4,000 to 8,000)", rotating))

    rows, truth = hyperplane(args.n, seed=args.seed + 1, rotate_from=None)
    base = initial_model(rows[:WARMUP], truth[:WARMUP])
    fed = truth.copy()
    fed[6_000:] = 1 - fed[6_000:]
    poisoned = run_stream(rows, truth, fed, copy.deepcopy(base), module_dir / "poisoned")
    sections.append(("poisoned labels (every label flipped from example 6,000)", poisoned))

    text = [f"Machine: {machine()}.", ""]
    for title, result in sections:
        text += [
            f"**{title}**: {result['learnt']:,} examples learnt, {result['refused']:,} refused, "
            f"{result['seconds']:.1f} s (learning, snapshots and predictions).",
            "",
            table(result, args.n),
            "",
            "Guard: "
            + (
                "; ".join(
                    f"{kind} ({reason}, accuracy on the fed labels {now:.3f}, restored {restored})"
                    for kind, reason, restored, now in result["alarms"]
                )
                or "no alarm"
            )
            + ".",
            "",
        ]
    body = "\n".join(text)
    print(body)
    if args.write_results is not None:
        write_section(args.write_results, "online", body)


if __name__ == "__main__":
    main()
