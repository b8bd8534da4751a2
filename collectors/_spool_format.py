"""The spool's bytes on disk: frames, segment file names and the acknowledgement ledger.

A **frame** is a 20-byte big-endian header followed by the payload:

======  =====  =================================================================
offset  size   field
======  =====  =================================================================
0       2      magic ``b"DS"``
2       1      format version, 1
3       1      flags: bit 0 set on the last frame of one ``append`` call
4       4      payload length in bytes (unsigned)
8       8      append time, nanoseconds since the Unix epoch (signed)
16      4      CRC-32C (Castagnoli) of bytes 0–15 followed by the payload
======  =====  =================================================================

A **segment** is a file ``%08d.seg`` holding whole frames back to back from offset 0. The
**ledger** ``ledger`` is 24 bytes: magic ``b"DA"``, version 1, a zero byte, the segment and
offset of the last acknowledged frame (unsigned 64-bit each), and a CRC-32C of the 20 bytes
before it.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from crc32c import crc32c

__all__ = [
    "FLAG_END",
    "HEADER",
    "LEDGER_NAME",
    "Frame",
    "FrameProblem",
    "Position",
    "decode_ledger",
    "encode_ledger",
    "frame_header",
    "parse_header",
    "read_frame",
    "segment_name",
    "segment_number",
    "verify_payload",
]

_MAGIC = b"DS"
_VERSION = 1
FLAG_END = 0x01
_HEADER = struct.Struct(">2sBBIqI")
HEADER = _HEADER.size
_LEDGER = struct.Struct(">2sBxQQI")
_LEDGER_MAGIC = b"DA"
LEDGER_NAME = "ledger"
_SEGMENT = re.compile(r"^(\d{8,})\.seg$")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a frame starts: its segment's number and its byte offset in that segment.

    Positions order as the frames were appended, so "everything up to ``p``" is well defined.
    """

    segment: int
    offset: int

    def __str__(self) -> str:
        return f"{segment_name(self.segment)}@{self.offset}"


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame header whose fields are plausible (its checksum is checked separately)."""

    position: Position
    length: int
    appended_at_ns: int
    flags: int
    crc: int

    @property
    def end(self) -> int:
        """Offset just past the frame's payload."""
        return self.position.offset + HEADER + self.length

    @property
    def last_of_append(self) -> bool:
        """True for the last frame written by one ``append`` call."""
        return bool(self.flags & FLAG_END)


class FrameProblem(Exception):
    """Why the bytes at a position are not a whole, valid frame (internal to the spool)."""

    def __init__(self, position: Position, problem: str, *, resume: int | None = None) -> None:
        super().__init__(f"{position}: {problem}")
        self.position = position
        self.problem = problem
        self.resume = resume
        """Where the next frame would start, when the header was sound (bad checksum only)."""


def segment_name(number: int) -> str:
    """The file name of segment ``number``: ``00000001.seg``."""
    return f"{number:08d}.seg"


def segment_number(path: Path) -> int | None:
    """The number in a segment file's name, or None if ``path`` is not named like a segment."""
    match = _SEGMENT.match(path.name)
    return int(match.group(1)) if match else None


def frame_header(payload: bytes, *, appended_at_ns: int, flags: int) -> bytes:
    """The header of the frame holding ``payload`` (the payload follows it unchanged)."""
    if len(payload) > 0xFFFFFFFF:
        raise ValueError(f"a spool payload holds at most 4 GiB - 1 bytes, got {len(payload)}")
    head = _HEADER.pack(_MAGIC, _VERSION, flags, len(payload), appended_at_ns, 0)[:16]
    return head + crc32c(payload, crc32c(head)).to_bytes(4, "big")


def parse_header(data: bytes, position: Position, available: int) -> Frame:
    """The header in ``data`` (at least :data:`HEADER` bytes), for a frame at ``position``.

    ``available`` is how many bytes the file holds from ``position`` on.

    Raises
    ------
    FrameProblem
        The header is short, foreign, or claims more bytes than the file has.
    """
    if len(data) < HEADER:
        raise FrameProblem(position, f"header cut short ({len(data)} of {HEADER} bytes)")
    magic, version, flags, length, appended_at_ns, crc = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise FrameProblem(position, f"bad magic {magic!r}, expected {_MAGIC!r}")
    if version != _VERSION:
        raise FrameProblem(position, f"unknown frame version {version}")
    if HEADER + length > available:
        raise FrameProblem(
            position, f"header claims {length} payload bytes, the file has {available - HEADER}"
        )
    return Frame(position, length, appended_at_ns, flags, crc)


def verify_payload(frame: Frame, header: bytes, payload: bytes) -> None:
    """Check ``frame``'s CRC-32C over its header fields and ``payload``.

    Raises
    ------
    FrameProblem
        The checksum does not match (a torn or damaged frame).
    """
    actual = crc32c(payload, crc32c(header[:16]))
    if actual != frame.crc:
        raise FrameProblem(
            frame.position,
            f"checksum mismatch (stored {frame.crc:#010x}, computed {actual:#010x})",
            resume=frame.end,
        )


def encode_ledger(position: Position) -> bytes:
    """The ledger's bytes recording ``position`` as the last acknowledged frame."""
    body = _LEDGER.pack(_LEDGER_MAGIC, _VERSION, position.segment, position.offset, 0)[:20]
    return body + crc32c(body).to_bytes(4, "big")


def decode_ledger(data: bytes) -> Position:
    """The position recorded in a ledger's bytes.

    Raises
    ------
    ValueError
        The bytes are not a whole ledger written by :func:`encode_ledger`.
    """
    if len(data) != _LEDGER.size:
        raise ValueError(f"ledger is {len(data)} bytes, expected {_LEDGER.size}")
    magic, version, segment, offset, crc = _LEDGER.unpack(data)
    if magic != _LEDGER_MAGIC or version != _VERSION:
        raise ValueError(f"bad ledger magic or version {magic!r}/{version}")
    if crc32c(data[:20]) != crc:
        raise ValueError("ledger checksum mismatch")
    return Position(segment, offset)


def read_frame(fd: int, position: Position, file_size: int) -> tuple[Frame, bytes]:
    """Read and check the frame at ``position`` of the open segment ``fd``.

    Raises
    ------
    FrameProblem
        The bytes there are not a whole frame with a matching checksum.
    """
    available = file_size - position.offset
    header = os.pread(fd, min(HEADER, max(available, 0)), position.offset)
    frame = parse_header(header, position, available)
    payload = os.pread(fd, frame.length, position.offset + HEADER)
    if len(payload) != frame.length:  # the file shrank under us
        raise FrameProblem(position, f"read {len(payload)} of {frame.length} payload bytes")
    verify_payload(frame, header, payload)
    return frame, payload
