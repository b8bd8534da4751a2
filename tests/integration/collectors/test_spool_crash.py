"""``kill -9`` of a process appending to the spool: every acknowledged batch survives, once.

A child Python process appends numbered batches in a loop and prints the last number of each
batch once ``append`` has returned. The parent kills it with SIGKILL at a seeded random
moment, reopens the spool and checks that the pending records are one gapless, duplicate-free
run of numbers covering everything the child printed, each payload intact. It then
acknowledges a random prefix and starts the next round where the spool ends.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.spool import Spool

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
ROUNDS = 5
SEGMENT_BYTES = 256 * 1024

CHILD = """
import random, sys
from pathlib import Path
from collectors.spool import Spool

directory, number, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
spool = Spool(directory, segment_bytes=int(sys.argv[4]))
while True:
    batch = []
    for _ in range(rng.randrange(1, 6)):
        batch.append(number.to_bytes(8, "big") * rng.randrange(1, 5000))
        number += 1
    spool.append(batch)
    sys.stdout.write(f"{number - 1}\\n")
    sys.stdout.flush()
"""


def number_of(payload: bytes) -> int:
    """The number a payload repeats; fails on anything the child did not write."""
    number = int.from_bytes(payload[:8], "big")
    assert payload == payload[:8] * (len(payload) // 8), f"garbage payload for {number}"
    return number


def run_child(directory: Path, first: int, seed: int, rng: random.Random) -> list[int]:
    """Start the appender, SIGKILL it at a random moment, return the numbers it printed."""
    command = [sys.executable, "-c", CHILD, str(directory), str(first), str(seed)]
    child = subprocess.Popen(
        [*command, str(SEGMENT_BYTES)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    lines = [child.stdout.readline() for _ in range(rng.randrange(1, 40))]
    time.sleep(rng.uniform(0, 0.02))
    child.kill()
    rest, errors = child.communicate(timeout=10)
    assert child.returncode == -9, errors.decode()
    return [int(number) for number in (b"".join(lines) + rest).split()]


@pytest.mark.timeout(60)
def test_sigkill_mid_stream_loses_and_repeats_no_acknowledged_record(
    tmp_path: Path, global_random_seed: int
) -> None:
    rng = random.Random(global_random_seed)
    first_pending = next_number = 0
    acknowledged_total = 0
    for round_ in range(ROUNDS):
        printed = run_child(tmp_path, next_number, global_random_seed * 100 + round_, rng)
        assert printed, f"round {round_}: the child printed nothing"

        with Spool(tmp_path, segment_bytes=SEGMENT_BYTES) as spool:
            entries = spool.read(max_records=10**6, max_bytes=2**40)
            numbers = [number_of(payload) for _, payload in entries]
            recovery = spool.stats().recovery

            assert numbers == list(range(first_pending, first_pending + len(numbers)))
            assert max(printed) < first_pending + len(numbers), "an acknowledged batch is lost"
            assert recovery.lost_frames < 5, recovery  # at most one unfinished batch is cut
            next_number = first_pending + len(numbers)

            keep = rng.randrange(len(entries) + 1)
            if keep:
                spool.acknowledge(entries[keep - 1][0])
                first_pending += keep
                acknowledged_total += keep
    assert acknowledged_total > 0
