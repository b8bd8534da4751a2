"""The spool's in-memory index: pending frames, segment sizes, counters. No I/O.

Every method takes the index's one lock for a few dictionary and deque operations, so the
appending thread and the consuming thread never wait on each other's writes or fsyncs.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from collectors._spool_format import HEADER, Position
from collectors._spool_recovery import Entry, Recovered, SpoolRecovery
from collectors.errors import SpoolFullError

__all__ = ["SpoolIndex", "SpoolStats"]


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """A consistent snapshot of the spool, cheap to take (for metrics and health checks).

    Attributes
    ----------
    pending_records
        Payloads appended and not yet acknowledged.
    pending_bytes
        Their payload bytes.
    disk_bytes
        Bytes of the segment files on disk (what the quota counts).
    quota_bytes
        The disk quota: an append that would take ``disk_bytes`` past it is refused.
    segments
        Segment files on disk.
    oldest_pending_appended_at
        When the oldest pending payload was appended, seconds since the epoch (from its frame,
        so it survives restarts); None when nothing is pending.
    appended_total, acknowledged_total, refused_total
        Payloads appended, payloads acknowledged and batches refused as over quota since open.
    recovery
        What opening the spool found and cut.
    """

    pending_records: int
    pending_bytes: int
    disk_bytes: int
    quota_bytes: int
    segments: int
    oldest_pending_appended_at: float | None
    appended_total: int
    acknowledged_total: int
    refused_total: int
    recovery: SpoolRecovery


class SpoolIndex:
    """Which frames are pending, where they are, and how many bytes the segments take.

    Only *published* frames (written and, with fsync on, synced) are in the index, so a reader
    never sees a frame that a crash could still take back.
    """

    def __init__(
        self, directory: Path, recovered: Recovered, acknowledged: Position | None, quota_bytes: int
    ) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._pending: deque[Entry] = deque(recovered.entries)
        self._pending_bytes = sum(entry.length for entry in recovered.entries)
        self._sizes = dict(recovered.sizes)
        self._disk_bytes = sum(recovered.sizes.values())
        self._last = recovered.entries[-1].position if recovered.entries else acknowledged
        self._active: int | None = None
        self._quota_bytes = quota_bytes
        self._recovery = recovered.report
        self._appended_total = self._acknowledged_total = self._refused_total = 0

    def reserve(self, size: int, segment_bytes: int) -> bool:
        """Check the quota for ``size`` more bytes; return whether to start a new segment.

        Raises
        ------
        SpoolFullError
            The bytes do not fit, even after freeing a wholly acknowledged open segment.
        """
        with self._lock:
            active = self._sizes.get(self._active, 0) if self._active is not None else 0
            roll = self._active is None or (active > 0 and active + size > segment_bytes)
            over = self._disk_bytes + size > self._quota_bytes
            # The open segment is wholly acknowledged when nothing is pending: rolling frees it.
            freeable = 0 if self._pending else active
            if over and self._disk_bytes - freeable + size > self._quota_bytes:
                self._refused_total += 1
                raise SpoolFullError(
                    f"{self._directory}: a batch of {size} bytes does not fit: the spool holds "
                    f"{self._disk_bytes} bytes of its {self._quota_bytes} bytes quota "
                    f"({len(self._pending)} records not yet in the store)"
                )
            return roll or over

    def open_segment(self, number: int) -> list[int]:
        """Record ``number`` as the new, empty open segment; return segments now deletable."""
        with self._lock:
            self._active = number
            self._sizes[number] = 0
            return self._claim_acknowledged()

    def size_of(self, segment: int) -> int:
        """Published bytes of ``segment``."""
        with self._lock:
            return self._sizes[segment]

    def publish(
        self, segment: int, start: int, lengths: list[int], appended_at_ns: int
    ) -> Position:
        """Index the frames just written to ``segment`` at ``start``; return the last."""
        entries: list[Entry] = []
        offset = start
        for length in lengths:
            entries.append(Entry(Position(segment, offset), length, appended_at_ns))
            offset += HEADER + length
        with self._lock:
            self._pending.extend(entries)
            self._pending_bytes += sum(lengths)
            self._disk_bytes += offset - self._sizes[segment]
            self._sizes[segment] = offset
            self._appended_total += len(entries)
            self._last = entries[-1].position
            return self._last

    def select(self, max_records: int, max_bytes: int) -> tuple[list[Entry], dict[int, int]]:
        """The oldest pending entries within the bounds, and their segments' published sizes."""
        with self._lock:
            chosen: list[Entry] = []
            total = 0
            for entry in self._pending:
                if len(chosen) == max_records or (chosen and total + entry.length > max_bytes):
                    break
                chosen.append(entry)
                total += entry.length
            return chosen, {
                entry.position.segment: self._sizes[entry.position.segment] for entry in chosen
            }

    def plan_acknowledge(self, position: Position) -> tuple[int, Position] | None:
        """How many pending entries ``position`` covers and the last of them; None if none.

        Raises
        ------
        ValueError
            ``position`` is past the last published frame.
        """
        with self._lock:
            if self._last is None or position > self._last:
                raise ValueError(
                    f"cannot acknowledge {position}: the last record is at {self._last}"
                )
            count = bisect.bisect_right(self._pending, position, key=lambda entry: entry.position)
            return (count, self._pending[count - 1].position) if count else None

    def acknowledge(self, count: int) -> list[int]:
        """Drop the ``count`` oldest entries (the ledger has them); return deletable segments."""
        with self._lock:
            for _ in range(count):
                self._pending_bytes -= self._pending.popleft().length
            self._acknowledged_total += count
            return self._claim_acknowledged()

    def stats(self) -> SpoolStats:
        """A snapshot of sizes and counters."""
        with self._lock:
            oldest = self._pending[0].appended_at_ns / 1e9 if self._pending else None
            return SpoolStats(
                pending_records=len(self._pending),
                pending_bytes=self._pending_bytes,
                disk_bytes=self._disk_bytes,
                quota_bytes=self._quota_bytes,
                segments=len(self._sizes),
                oldest_pending_appended_at=oldest,
                appended_total=self._appended_total,
                acknowledged_total=self._acknowledged_total,
                refused_total=self._refused_total,
                recovery=self._recovery,
            )

    def _claim_acknowledged(self) -> list[int]:
        """Forget the segments with nothing pending, bar the open one (lock held)."""
        first = self._pending[0].position.segment if self._pending else None
        doomed = [n for n in self._sizes if n != self._active and (first is None or n < first)]
        for number in doomed:
            self._disk_bytes -= self._sizes.pop(number)
        return doomed
