"""The sidecar's durable local spool: append batches, read them back in order, acknowledge.

Payloads are opaque bytes (one payload is one encoded batch of records). They are appended to
segment files ``00000001.seg``, ``00000002.seg``, ... in ``directory``, each payload in a
checksummed frame (layout in :mod:`collectors._spool_format`); the writer reads the oldest
pending frames, stores them and acknowledges them, and wholly acknowledged segments are
deleted. The acknowledged position lives in a 24-byte ledger file. A ``lock`` file keeps a
second process (or a second :class:`Spool`) off the directory.

Durability
----------
* **When ``append`` returns** (``fsync=True``), all of its frames are written and
  ``fdatasync``-ed, and if it started a new segment the segment's directory entry is fsynced
  too: the batch survives a crash of the process (``kill -9``) and of the machine (power loss,
  kernel panic), as far as the device honours flushes. An append is atomic on recovery: a call
  that did not return comes back whole or not at all, never in part. One append is one write
  and one fsync; a batch never spans segments, so only an append that starts a segment pays an
  extra directory fsync.
* **``fsync=False``** skips those fsyncs (``close`` still syncs the open segment). Written
  data sits in the page cache, so it still survives a process crash, but a machine crash can
  lose the appends not yet written back by the kernel (up to ``vm.dirty_expire_centisecs``,
  30 s by default); what it leaves torn is cut on recovery.
* **``acknowledge``** durably replaces the ledger (temp file, fsync, ``os.replace``, directory
  fsync; always, whatever ``fsync`` says) before deleting segments. After a crash the spool
  replays from the last acknowledgement that returned, so records stored by the writer but not
  yet acknowledged are read again: the store must take them idempotently.
* **On open** every pending frame is re-read and checked (header and CRC-32C). The log is
  cut at the first damaged or unfinished frame: that segment is truncated, later ones are
  deleted, and the loss is counted in :attr:`SpoolStats.recovery` and logged. A crash of the
  process leaves at most a torn tail of an append that had not returned; a machine crash may
  also leave zeros or stale bytes past the last synced append, cut the same way. Appends after
  opening go to a new segment, never after a repaired tail.
* **After an I/O error** in ``append`` or ``acknowledge`` the spool refuses appends
  (:class:`~collectors.errors.SpoolFailedError`): after a failed fsync the kernel may have
  dropped the pages, so only reopening (which re-reads and checks the files) tells what is
  on disk.

Threads: one thread may append while another reads and acknowledges; ``stats`` may be called
from any thread. A lock guards the in-memory index only briefly; writes and fsyncs happen
outside it, and frames become readable once they are durable.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from collectors._spool_format import (
    FLAG_END,
    HEADER,
    LEDGER_NAME,
    FrameProblem,
    Position,
    decode_ledger,
    encode_ledger,
    frame_header,
    read_frame,
    segment_name,
)
from collectors._spool_index import SpoolIndex, SpoolStats
from collectors._spool_io import fsync_directory, lock_directory, replace_durably, write_all
from collectors._spool_recovery import Entry, SpoolRecovery, recover
from collectors.errors import SpoolClosedError, SpoolCorruptError, SpoolFailedError

__all__ = ["Position", "Spool", "SpoolRecovery", "SpoolStats"]


class Spool:
    """A directory of checksummed segment files holding payloads until they are acknowledged.

    Opening recovers the directory (see the module's notes on durability): every pending frame
    is checked and a damaged or torn tail is cut. Appends after opening go to a new segment.

    Parameters
    ----------
    directory
        Where the segments, the ledger and the lock live; created if missing.
    segment_bytes
        Size at which a segment is closed and the next one started. A batch larger than this
        gets a segment of its own.
    quota_bytes
        Most bytes the segment files may take on disk; appends beyond it are refused.
    fsync
        Whether each append is fsynced before it returns (see the module's notes).

    Raises
    ------
    SpoolLockedError
        The directory is open in another :class:`Spool`, here or in another process.
    SpoolCorruptError
        The ledger is unreadable (the message names it).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp, Spool(Path(tmp), fsync=False) as spool:
    ...     last = spool.append([b"batch 1", b"batch 2"])
    ...     [payload for _, payload in spool.read()]
    ...     spool.acknowledge(last)
    ...     spool.stats().pending_records
    [b'batch 1', b'batch 2']
    0
    """

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = 64 * 2**20,
        quota_bytes: int = 1 * 2**30,
        fsync: bool = True,
    ) -> None:
        if segment_bytes <= HEADER:
            raise ValueError(f"segment_bytes must exceed {HEADER}, got {segment_bytes}")
        if quota_bytes <= 0:
            raise ValueError(f"quota_bytes must be positive, got {quota_bytes}")
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.quota_bytes = quota_bytes
        self.fsync = fsync
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_directory(self.directory)
        try:
            acknowledged = self._read_ledger()
            recovered = recover(self.directory, acknowledged, sync=fsync)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._index = SpoolIndex(self.directory, recovered, acknowledged, quota_bytes)
        self._append_lock = threading.Lock()  # the open segment
        self._consume_lock = threading.Lock()  # reads and the ledger
        self._next_segment = recovered.next_segment
        self._current: tuple[int, int] | None = None  # the open segment: number, descriptor
        self._failed: str | None = None
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Spool({str(self.directory)!r}, segment_bytes={self.segment_bytes}, "
            f"quota_bytes={self.quota_bytes}, fsync={self.fsync})"
        )

    def append(self, payloads: Sequence[bytes]) -> Position:
        """Append ``payloads`` as one durable write: all frames, then one fsync.

        Parameters
        ----------
        payloads
            One or more payloads; they are read back in this order.

        Returns
        -------
        Position
            The position of the last payload's frame.

        Raises
        ------
        SpoolFullError
            The batch would take the spool past its quota; nothing was written.
        SpoolFailedError
            Writing or syncing failed (now or earlier): reopen the spool.
        """
        if not payloads:
            raise ValueError("append needs at least one payload, got none")
        appended_at_ns = time.time_ns()
        last = len(payloads) - 1
        parts: list[bytes] = []
        for i, payload in enumerate(payloads):
            flags = FLAG_END if i == last else 0
            parts += (frame_header(payload, appended_at_ns=appended_at_ns, flags=flags), payload)
        data = b"".join(parts)
        with self._append_lock:
            self._check_open()
            if self._failed is not None:
                raise SpoolFailedError(f"{self.directory}: {self._failed}; reopen the spool")
            roll = self._index.reserve(len(data), self.segment_bytes)
            current = self._current
            segment = self._next_segment if roll or current is None else current[0]
            try:
                if roll or current is None:
                    current = self._roll()
                start = self._index.size_of(segment)
                write_all(current[1], data)
                if self.fsync:
                    os.fdatasync(current[1])
            except OSError as error:
                self._failed = f"appending {len(data)} bytes failed: {error}"
                path = self.directory / segment_name(segment)
                raise SpoolFailedError(f"{path}: {self._failed}") from error
            lengths = [len(payload) for payload in payloads]
            return self._index.publish(segment, start, lengths, appended_at_ns)

    def read(
        self, *, max_records: int = 256, max_bytes: int = 16 * 2**20
    ) -> list[tuple[Position, bytes]]:
        """The oldest payloads not yet acknowledged, in order; they stay in the spool.

        Parameters
        ----------
        max_records
            Most payloads to return.
        max_bytes
            Most payload bytes to return, except that one payload is always returned when any
            is pending, however large.

        Returns
        -------
        list of (Position, bytes)
            Each payload with the position to acknowledge it by; empty when none is pending.

        Raises
        ------
        SpoolCorruptError
            A frame no longer matches its checksum (the disk changed it after it was checked);
            the message names the file and offset. Reopening the spool cuts it.
        """
        if max_records < 1 or max_bytes < 1:
            raise ValueError(
                f"max_records and max_bytes must be at least 1, got {max_records}, {max_bytes}"
            )
        with self._consume_lock:
            self._check_open()
            entries, sizes = self._index.select(max_records, max_bytes)
            return self._read_entries(entries, sizes)

    def acknowledge(self, position: Position) -> None:
        """Mark every payload up to and including ``position`` as safely stored.

        The ledger is durably replaced first; then segments holding nothing pending (other than
        the one being appended to) are deleted. Acknowledging an already acknowledged position
        does nothing.

        Raises
        ------
        ValueError
            ``position`` is past the last appended payload.
        SpoolFailedError
            The ledger could not be written; the acknowledgement did not happen.
        """
        with self._consume_lock:
            self._check_open()
            plan = self._index.plan_acknowledge(position)
            if plan is None:
                return
            count, target = plan
            ledger = self.directory / LEDGER_NAME
            try:
                replace_durably(ledger, encode_ledger(target))
            except OSError as error:
                self._failed = f"writing the ledger failed: {error}"
                raise SpoolFailedError(f"{ledger}: {self._failed}") from error
            for number in self._index.acknowledge(count):
                (self.directory / segment_name(number)).unlink(missing_ok=True)

    def stats(self) -> SpoolStats:
        """A snapshot of sizes and counters (see :class:`SpoolStats`)."""
        return self._index.stats()

    def close(self) -> None:
        """Close the open segment (syncing it when ``fsync=False``) and release the lock.

        Closing twice does nothing; any other use after closing raises ``SpoolClosedError``.
        """
        with self._append_lock, self._consume_lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._current is not None:
                    if not self.fsync and self._failed is None:
                        os.fdatasync(self._current[1])
                    os.close(self._current[1])
            finally:
                self._current = None
                os.close(self._lock_fd)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolClosedError(f"{self.directory}: the spool is closed")

    def _read_ledger(self) -> Position | None:
        path = self.directory / LEDGER_NAME
        try:
            return decode_ledger(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError as error:
            raise SpoolCorruptError(
                f"{path}: offset 0: {error}; move it aside to replay every segment from the start"
            ) from None

    def _roll(self) -> tuple[int, int]:
        """Start the next segment (its name made durable), delete the old one if acknowledged.

        Returns the new segment's number and write descriptor.
        """
        if self._current is not None:
            os.close(self._current[1])
            self._current = None
        number = self._next_segment
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
        fd = os.open(self.directory / segment_name(number), flags, 0o644)
        self._next_segment, self._current = number + 1, (number, fd)
        doomed = self._index.open_segment(number)
        if self.fsync:
            fsync_directory(self.directory)
        for old in doomed:
            (self.directory / segment_name(old)).unlink(missing_ok=True)
        return number, fd

    def _read_entries(
        self, entries: list[Entry], sizes: dict[int, int]
    ) -> list[tuple[Position, bytes]]:
        """Read and check the frames of ``entries`` (under the consume lock)."""
        fds: dict[int, int] = {}
        result: list[tuple[Position, bytes]] = []
        try:
            for entry in entries:
                segment = entry.position.segment
                path = self.directory / segment_name(segment)
                if segment not in fds:
                    fds[segment] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    _, payload = read_frame(fds[segment], entry.position, sizes[segment])
                except FrameProblem as problem:
                    raise SpoolCorruptError(
                        f"{path}: offset {entry.position.offset}: {problem.problem} "
                        "(it was whole when written or recovered); reopen the spool to cut it"
                    ) from None
                result.append((entry.position, payload))
        finally:
            for fd in fds.values():
                os.close(fd)
        return result
