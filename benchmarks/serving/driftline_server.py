"""``driftline serve``'s server for the benchmark, with the tap on or off.

The tap here is an in-memory hand-off to a consumer thread that touches every batch (rows
and outputs), which is the request-path cost of tapping; the store behind it is measured by
the collectors benchmark. Run as ``python driftline_server.py MODEL PORT on|off``.
"""

from __future__ import annotations

import queue
import sys
import threading

import uvicorn

from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.server import create_server
from serving.tap import TappedBatch


class QueueTap:
    """A bounded queue drained by one thread; a full queue counts a drop."""

    def __init__(self) -> None:
        self.queue: queue.Queue[TappedBatch] = queue.Queue(maxsize=10_000)
        self.rows = 0
        self.dropped = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def submit(self, batch: TappedBatch) -> None:
        try:
            self.queue.put_nowait(batch)
        except queue.Full:
            self.dropped += 1

    def _drain(self) -> None:
        while True:
            batch = self.queue.get()
            self.rows += int(batch.row_counts.sum())


def main() -> None:
    model_path, port, tap = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = ModelConfig(
        name="clf",
        version="1",
        runtime="sklearn",
        uri=model_path,
        allow_pickle=True,
        features=tuple(FeatureInput(f"f{i}") for i in range(20)),
        batching=BatchingConfig(max_batch_size=64, max_batch_delay_ms=1.0),
    )
    server = create_server([config], tap=QueueTap() if tap == "on" else None)
    uvicorn.run(
        server.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
