"""Recovery of a spool directory on open: verify every pending frame, cut the damage.

Segments older than the acknowledged position are deleted unread. The rest are read in order
from the acknowledged frame on; every frame's header and CRC-32C are checked. The spool keeps
the longest prefix of whole appends: the log is cut at the first frame that is cut short,
foreign or fails its checksum, and after the last frame of an append that did not finish
(``append`` writes its frames with the last one flagged). The segment holding the cut is
truncated there and every later segment is deleted, as Prometheus' WAL ``Repair`` does; what
was dropped is counted in :class:`SpoolRecovery`. Segments left with nothing pending go.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from collectors._spool_format import (
    LEDGER_NAME,
    FrameProblem,
    Position,
    read_frame,
    segment_name,
    segment_number,
)
from collectors._spool_io import fsync_directory

__all__ = ["Entry", "Recovered", "SpoolRecovery", "recover"]

logger = logging.getLogger(__name__)


class Entry(NamedTuple):
    """A pending frame: where it is, its payload's size, when it was appended (ns)."""

    position: Position
    length: int
    appended_at_ns: int


@dataclass(frozen=True, slots=True)
class SpoolRecovery:
    """What opening a spool found on disk and what it cut.

    Attributes
    ----------
    segments
        Segment files kept.
    pending_records
        Frames found that were not yet acknowledged.
    cut_at
        Where the log was cut (the segment was truncated there, later ones deleted); None
        when every frame was whole.
    problem
        Why it was cut, naming the file and offset; None when it was not.
    lost_frames
        Whole frames dropped by the cut: those of an unfinished append, the damaged frame and
        those after it when they could still be delimited.
    lost_bytes
        Bytes truncated or deleted by the cut.
    """

    segments: int = 0
    pending_records: int = 0
    cut_at: Position | None = None
    problem: str | None = None
    lost_frames: int = 0
    lost_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Recovered:
    """The state a spool starts from: pending frames, segment sizes, the next segment number."""

    entries: list[Entry]
    sizes: dict[int, int]
    next_segment: int
    report: SpoolRecovery = field(default_factory=SpoolRecovery)


@dataclass(frozen=True, slots=True)
class _Scan:
    entries: list[Entry]
    size: int
    commit: int
    problem: str | None
    lost_frames: int


def recover(directory: Path, acknowledged: Position | None, *, sync: bool) -> Recovered:
    """Verify the segments in ``directory``, repair them, and return what is pending.

    ``acknowledged`` is the ledger's position (None when nothing was ever acknowledged).
    With ``sync``, truncations and deletions are fsynced before this returns.
    """
    numbers = sorted(n for p in directory.iterdir() if (n := segment_number(p)) is not None)
    floor = acknowledged.segment if acknowledged is not None else 0
    next_segment = max([floor, *numbers]) + 1
    (directory / f"{LEDGER_NAME}.tmp").unlink(missing_ok=True)
    doomed = [n for n in numbers if n < floor]
    entries: list[Entry] = []
    sizes: dict[int, int] = {}
    report = SpoolRecovery()
    kept = [n for n in numbers if n >= floor]
    for index, number in enumerate(kept):
        path = directory / segment_name(number)
        scan = _scan(path, number, acknowledged)
        entries.extend(scan.entries)
        sizes[number] = min(scan.size, scan.commit)
        if scan.commit < scan.size:
            later = kept[index + 1 :]
            report = _cut(path, Position(number, scan.commit), scan, later, sync=sync)
            doomed.extend(later)
            break
    pending_segments = {entry.position.segment for entry in entries}
    for number in [n for n in sizes if n not in pending_segments]:
        doomed.append(number)
        del sizes[number]
    for number in doomed:
        (directory / segment_name(number)).unlink(missing_ok=True)
    if sync and doomed:
        fsync_directory(directory)
    report = replace(report, segments=len(sizes), pending_records=len(entries))
    return Recovered(entries, sizes, next_segment, report)


def _scan(path: Path, number: int, acknowledged: Position | None) -> _Scan:
    """Read one segment's frames from the acknowledged one (or the start) to the first problem."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        acked = acknowledged is not None and acknowledged.segment == number
        offset = acknowledged.offset if acknowledged is not None and acked else 0
        commit = offset
        entries: list[Entry] = []
        provisional: list[Entry] = []
        problem: FrameProblem | None = None
        while offset < size:
            position = Position(number, offset)
            try:
                frame, _ = read_frame(fd, position, size)
            except FrameProblem as error:
                problem = error
                break
            offset = frame.end
            if acked:  # the acknowledged frame itself: only its end matters
                acked, commit = False, offset
                continue
            provisional.append(Entry(position, frame.length, frame.appended_at_ns))
            if frame.last_of_append:
                entries.extend(provisional)
                provisional.clear()
                commit = offset
        lost = len(provisional)
        if problem is not None and problem.resume is not None:
            damaged_is_acked = acknowledged is not None and problem.position == acknowledged
            lost += (0 if damaged_is_acked else 1) + _count(fd, number, problem.resume, size)
    finally:
        os.close(fd)
    reason = None
    if problem is not None:
        reason = f"{path}: offset {problem.position.offset}: {problem.problem}"
    if provisional:
        unfinished = f"offset {commit}: {len(provisional)} whole frame(s) of an unfinished append"
        reason = f"{reason}; {unfinished}" if reason else f"{path}: {unfinished}"
    return _Scan(entries, size, commit, reason, lost)


def _count(fd: int, number: int, offset: int, size: int) -> int:
    """Whole frames from ``offset`` on, stepping over bad checksums, up to a bad header."""
    count = 0
    while offset < size:
        try:
            frame, _ = read_frame(fd, Position(number, offset), size)
        except FrameProblem as error:
            if error.resume is None:
                break
            count, offset = count + 1, error.resume
            continue
        count, offset = count + 1, frame.end
    return count


def _cut(path: Path, at: Position, scan: _Scan, later: list[int], *, sync: bool) -> SpoolRecovery:
    """Truncate ``path`` at ``at``; count what that and deleting the ``later`` segments lose."""
    lost_frames, lost_bytes = scan.lost_frames, scan.size - at.offset
    for number in later:
        other = path.with_name(segment_name(number))
        fd = os.open(other, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            lost_frames += _count(fd, number, 0, size)
            lost_bytes += size
        finally:
            os.close(fd)
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.ftruncate(fd, at.offset)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    logger.warning(
        "spool recovery cut the log at %s (%s): %d whole frame(s) and %d byte(s) dropped, "
        "%d later segment(s) deleted",
        at, scan.problem, lost_frames, lost_bytes, len(later),
    )  # fmt: skip
    return SpoolRecovery(
        cut_at=at, problem=scan.problem, lost_frames=lost_frames, lost_bytes=lost_bytes
    )
