"""The durable spool: round trips, acknowledgement, quota, recovery of torn and damaged segments."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors._spool_format import HEADER
from collectors.errors import (
    SpoolClosedError,
    SpoolCorruptError,
    SpoolFailedError,
    SpoolFullError,
    SpoolLockedError,
)
from collectors.spool import Position, Spool

REPO = Path(__file__).resolve().parents[3]


def payload(i: int, size: int = 40) -> bytes:
    """A payload naming its number, padded to ``size`` bytes."""
    head = f"record {i:06d};".encode()
    return head + bytes((i + k) % 251 for k in range(max(size - len(head), 0)))


def read_all(spool: Spool) -> list[bytes]:
    return [data for _, data in spool.read(max_records=10**6, max_bytes=2**40)]


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.seg"))


def disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("*.seg"))


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


# -- round trips -------------------------------------------------------------------------------


def test_round_trip_across_segment_rolls(tmp_path: Path) -> None:
    expected: list[bytes] = []
    with Spool(tmp_path, segment_bytes=300) as spool:
        for batch in range(30):
            size = 10 + 10 * (batch % 5)
            payloads = [payload(len(expected) + k, size) for k in range(1 + batch % 3)]
            spool.append(payloads)
            expected.extend(payloads)
        entries = spool.read(max_records=10**6)
        stats = spool.stats()

    assert [data for _, data in entries] == expected
    positions = [position for position, _ in entries]
    assert positions == sorted(set(positions))
    names = segments(tmp_path)
    assert len(names) > 5
    assert names[0] == "00000001.seg"
    assert stats.disk_bytes == disk_bytes(tmp_path) == sum(HEADER + len(p) for p in expected)
    assert stats.pending_records == stats.appended_total == len(expected)
    # A batch never spans segments: each segment ends on a batch boundary, none is over-full.
    assert all((tmp_path / name).stat().st_size <= 300 for name in names)


def test_a_batch_larger_than_a_segment_gets_a_segment_of_its_own(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=100) as spool:
        spool.append([b"small"])
        big = spool.append([b"x" * 150, b"y" * 150])
        spool.append([b"after"])

        assert big.segment == 2
        assert read_all(spool) == [b"small", b"x" * 150, b"y" * 150, b"after"]
    assert segments(tmp_path) == ["00000001.seg", "00000002.seg", "00000003.seg"]


def test_read_respects_its_bounds_but_always_returns_one(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        spool.append([payload(i, 100) for i in range(10)])

        assert len(spool.read(max_records=3)) == 3
        assert len(spool.read(max_bytes=250)) == 2
        assert len(spool.read(max_bytes=1)) == 1
        with pytest.raises(ValueError, match="at least 1"):
            spool.read(max_records=0)


def test_read_acknowledge_and_reopen_resume_at_the_next_record(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=256) as spool:
        for i in range(10):
            spool.append([payload(i)])
        first = spool.read(max_records=4)
        spool.acknowledge(first[-1][0])

        assert [data for _, data in spool.read(max_records=2)] == [payload(4), payload(5)]
        assert spool.stats().acknowledged_total == 4

    with Spool(tmp_path, segment_bytes=256) as spool:
        assert read_all(spool) == [payload(i) for i in range(4, 10)]
        stats = spool.stats()
        assert (stats.pending_records, stats.recovery.cut_at) == (6, None)
        spool.acknowledge(spool.read(max_records=6)[-1][0])

    with Spool(tmp_path) as spool:
        assert read_all(spool) == []
        assert spool.stats().pending_records == 0


def test_acknowledging_covers_every_earlier_position_and_nothing_past_the_end(
    tmp_path: Path,
) -> None:
    with Spool(tmp_path) as spool:
        positions = [spool.append([payload(i)]) for i in range(5)]
        between = Position(positions[2].segment, positions[2].offset + 1)

        spool.acknowledge(between)
        assert read_all(spool) == [payload(3), payload(4)]
        spool.acknowledge(positions[1])  # already acknowledged: nothing happens
        assert spool.stats().pending_records == 2
        with pytest.raises(ValueError, match="last record is at"):
            spool.acknowledge(Position(positions[-1].segment, positions[-1].offset + 1))


def test_wholly_acknowledged_segments_are_deleted(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=200) as spool:
        for i in range(20):
            spool.append([payload(i)])
        entries = spool.read(max_records=10**6)
        before = segments(tmp_path)
        spool.acknowledge(entries[-2][0])  # all but the last record
        after = segments(tmp_path)

        assert after == before[-1:]
        assert spool.stats().disk_bytes == disk_bytes(tmp_path)
        spool.acknowledge(entries[-1][0])
        # The open segment is kept (appends go on in it) until the next segment starts.
        assert segments(tmp_path) == before[-1:]
        spool.append([b"x" * 200])
        assert spool.stats().segments == len(segments(tmp_path)) == 1


def test_reopening_after_close_keeps_every_record(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=500) as spool:
        spool.append([payload(i) for i in range(25)])
    with Spool(tmp_path, segment_bytes=500) as spool:
        spool.append([payload(25)])
        assert read_all(spool) == [payload(i) for i in range(26)]


def test_reopening_after_an_unclean_stop_keeps_every_record(tmp_path: Path) -> None:
    child = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from collectors.spool import Spool\n"
        "spool = Spool(Path(sys.argv[1]), segment_bytes=500)\n"
        "for i in range(30):\n"
        "    spool.append([b'record %d' % i])\n"
        "os._exit(0)  # no close, no flush, lock held\n"
    )
    subprocess.run([sys.executable, "-c", child, str(tmp_path)], check=True, cwd=REPO)

    with Spool(tmp_path, segment_bytes=500) as spool:
        assert read_all(spool) == [b"record %d" % i for i in range(30)]
        assert spool.stats().recovery.cut_at is None


def test_oldest_pending_time_comes_from_the_frames_and_survives_reopening(
    tmp_path: Path,
) -> None:
    before = time.time()
    with Spool(tmp_path) as spool:
        assert spool.stats().oldest_pending_appended_at is None
        spool.append([b"a"])
        spool.append([b"b"])
        oldest = spool.stats().oldest_pending_appended_at
    assert oldest is not None
    assert before <= oldest <= time.time()
    with Spool(tmp_path) as spool:
        assert spool.stats().oldest_pending_appended_at == oldest


# -- quota -------------------------------------------------------------------------------------


def test_the_quota_refuses_a_batch_that_does_not_fit_and_writes_nothing(tmp_path: Path) -> None:
    frame = HEADER + 80
    with Spool(tmp_path, segment_bytes=3 * frame, quota_bytes=10 * frame) as spool:
        for i in range(9):
            spool.append([payload(i, 80)])
        files = {p.name: p.read_bytes() for p in tmp_path.glob("*.seg")}

        with pytest.raises(SpoolFullError, match=f"holds {9 * frame} bytes of its {10 * frame}"):
            spool.append([payload(9, 80), payload(10, 80)])

        assert {p.name: p.read_bytes() for p in tmp_path.glob("*.seg")} == files
        stats = spool.stats()
        assert (stats.refused_total, stats.pending_records, stats.disk_bytes) == (1, 9, 9 * frame)
        spool.acknowledge(spool.read(max_records=3)[-1][0])  # frees the first segment
        spool.append([payload(9, 80), payload(10, 80)])
        assert read_all(spool) == [payload(i, 80) for i in range(3, 11)]


def test_a_wholly_acknowledged_open_segment_is_given_up_to_fit_the_quota(tmp_path: Path) -> None:
    with Spool(tmp_path, segment_bytes=10**6, quota_bytes=1000) as spool:
        spool.acknowledge(spool.append([b"a" * 600]))
        spool.append([b"b" * 600])

        assert read_all(spool) == [b"b" * 600]
        assert segments(tmp_path) == ["00000002.seg"]
        with pytest.raises(SpoolFullError):
            spool.append([b"c" * 600])  # the open segment is pending: nothing to give up


# -- recovery ----------------------------------------------------------------------------------


def build(
    directory: Path, batches: list[list[bytes]], *, segment_bytes: int = 2**20
) -> list[Position]:
    with Spool(directory, segment_bytes=segment_bytes, fsync=False) as spool:
        return [spool.append(batch) for batch in batches]


def test_a_torn_tail_is_cut_at_the_last_whole_frame_at_every_offset(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    last = build(directory, [[payload(i)] for i in range(6)])[-1]
    path = directory / "00000001.seg"
    original = path.read_bytes()

    for cut in range(last.offset, len(original)):
        path.write_bytes(original[:cut])
        with Spool(directory, fsync=False) as spool:
            assert read_all(spool) == [payload(i) for i in range(5)], cut
            recovery = spool.stats().recovery
            assert recovery.lost_frames == 0
            assert recovery.lost_bytes == cut - last.offset
            assert recovery.cut_at == (None if cut == last.offset else last)
            spool.append([b"after"])
            assert read_all(spool)[-1] == b"after"
        for extra in directory.glob("0000000[2-9].seg"):
            extra.unlink()


@pytest.mark.parametrize(
    ("cut", "problem"),
    [
        (3, "offset 180: header claims 40 payload bytes, the file has 37; offset 60: 2 whole"),
        (HEADER + 40, "offset 60: 2 whole frame(s) of an unfinished append"),
    ],
    ids=["torn", "clean-cut"],
)
def test_an_unfinished_append_is_dropped_whole(tmp_path: Path, cut: int, problem: str) -> None:
    directory = tmp_path / "spool"
    build(directory, [[payload(0)], [payload(1), payload(2), payload(3)]])
    path = directory / "00000001.seg"
    size = path.stat().st_size
    os.truncate(path, size - cut)  # in or before the last frame of the three-frame append

    with Spool(directory, fsync=False) as spool:
        assert read_all(spool) == [payload(0)]
        recovery = spool.stats().recovery
        assert recovery.cut_at == Position(1, HEADER + 40)
        assert (recovery.lost_frames, recovery.lost_bytes) == (2, size - cut - (HEADER + 40))
        assert problem in (recovery.problem or "")


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        (0, "bad magic b'\\x1eS', expected b'DS'"),
        (2, "unknown frame version 91"),
        (7, "header claims 114 payload bytes, the file has 40"),
        (12, "checksum mismatch"),
        (HEADER + 5, "checksum mismatch"),
    ],
    ids=["magic", "version", "length", "timestamp", "payload"],
)
def test_a_damaged_last_frame_is_cut(tmp_path: Path, where: int, problem: str) -> None:
    directory = tmp_path / "spool"
    last = build(directory, [[payload(i)] for i in range(4)])[-1]
    flip_byte(directory / "00000001.seg", last.offset + where)

    with Spool(directory, fsync=False) as spool:
        assert read_all(spool) == [payload(i) for i in range(3)]
        recovery = spool.stats().recovery
        assert recovery.cut_at == last
        assert f"00000001.seg: offset {last.offset}: {problem}" in (recovery.problem or "")
        spool.append([b"after"])
        assert read_all(spool) == [*(payload(i) for i in range(3)), b"after"]


def test_a_damaged_frame_in_an_older_segment_loses_everything_after_it(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    frame = HEADER + 40
    positions = build(directory, [[payload(i)] for i in range(12)], segment_bytes=4 * frame)
    assert [p.segment for p in positions] == [1] * 4 + [2] * 4 + [3] * 4
    flip_byte(directory / "00000001.seg", positions[1].offset + HEADER + 3)

    with Spool(directory, fsync=False, segment_bytes=4 * frame) as spool:
        assert read_all(spool) == [payload(0)]
        recovery = spool.stats().recovery
        assert recovery.cut_at == positions[1]
        assert recovery.lost_frames == 11  # the damaged frame, 2 after it, 8 in later segments
        assert recovery.lost_bytes == 11 * frame
        assert "00000001.seg: offset 60: checksum mismatch" in (recovery.problem or "")
        assert segments(directory) == ["00000001.seg"]
        assert spool.stats().disk_bytes == disk_bytes(directory) == frame


def test_frames_before_the_acknowledged_one_are_not_needed(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    with Spool(directory, fsync=False) as spool:
        positions = [spool.append([payload(i)]) for i in range(5)]
        spool.acknowledge(positions[2])
    flip_byte(directory / "00000001.seg", positions[0].offset + HEADER + 1)  # acknowledged

    with Spool(directory, fsync=False) as spool:
        assert read_all(spool) == [payload(3), payload(4)]
        assert spool.stats().recovery.cut_at is None


def test_leftovers_of_a_crash_between_ledger_and_deletion_are_cleaned_up(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    with Spool(directory, segment_bytes=130, fsync=False) as spool:
        positions = [spool.append([payload(i)]) for i in range(6)]  # two frames a segment
        saved = {p.name: p.read_bytes() for p in directory.glob("*.seg")}
        spool.acknowledge(positions[4])
    for name, data in saved.items():  # as if the process died before deleting segments
        (directory / name).write_bytes(data)
    (directory / "00000009.seg").touch()  # and had just created an empty segment
    (directory / "ledger.tmp").write_bytes(b"half a ledger")

    with Spool(directory, fsync=False) as spool:
        assert read_all(spool) == [payload(5)]
        assert segments(directory) == ["00000003.seg"]
        assert not (directory / "ledger.tmp").exists()
        assert spool.append([b"next"]) == Position(10, 0)


def test_a_frame_damaged_after_opening_is_refused_on_read_with_file_and_offset(
    tmp_path: Path,
) -> None:
    with Spool(tmp_path) as spool:
        spool.append([payload(0)])
        second = spool.append([payload(1)])
        flip_byte(tmp_path / "00000001.seg", second.offset + HEADER + 1)

        with pytest.raises(SpoolCorruptError, match=rf"00000001\.seg: offset {second.offset}: "):
            read_all(spool)


def test_a_damaged_ledger_is_refused_not_guessed(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        spool.acknowledge(spool.append([b"a"]))
    flip_byte(tmp_path / "ledger", 10)

    with pytest.raises(SpoolCorruptError, match=r"ledger: offset 0: ledger checksum mismatch"):
        Spool(tmp_path)
    (tmp_path / "ledger").unlink()
    with Spool(tmp_path) as spool:  # the failed open released its lock
        assert read_all(spool) == [b"a"]


# -- use and misuse ----------------------------------------------------------------------------


def test_one_directory_serves_one_open_spool(tmp_path: Path) -> None:
    with Spool(tmp_path), pytest.raises(SpoolLockedError, match="already open"):
        Spool(tmp_path)
    Spool(tmp_path).close()


def test_a_closed_spool_refuses_use(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.close()
    spool.close()
    with pytest.raises(SpoolClosedError):
        spool.append([b"a"])
    with pytest.raises(SpoolClosedError):
        spool.read()


def test_bad_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="segment_bytes must exceed 20, got 20"):
        Spool(tmp_path, segment_bytes=HEADER)
    with pytest.raises(ValueError, match="quota_bytes must be positive, got 0"):
        Spool(tmp_path, quota_bytes=0)


def test_an_empty_append_is_refused(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool, pytest.raises(ValueError, match="at least one payload"):
        spool.append([])


def test_a_failed_fsync_fails_the_spool_until_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    with Spool(tmp_path) as spool:
        spool.append([b"a"])
        monkeypatch.setattr(os, "fdatasync", failing)
        with pytest.raises(SpoolFailedError, match=r"00000001\.seg: appending .* failed"):
            spool.append([b"b"])
        monkeypatch.undo()
        with pytest.raises(SpoolFailedError, match="reopen the spool"):
            spool.append([b"c"])
        assert read_all(spool) == [b"a"]  # the consumer can still drain what was durable
    with Spool(tmp_path) as spool:
        assert read_all(spool) == [b"a", b"b"]  # written, fate unknown: here it came back whole


def test_one_thread_appends_while_another_reads_and_acknowledges(tmp_path: Path) -> None:
    count = 150
    received: list[bytes] = []
    with Spool(tmp_path, segment_bytes=2000) as spool:

        def produce() -> None:
            for i in range(0, count, 3):
                spool.append([payload(i + k) for k in range(3)])

        producer = threading.Thread(target=produce)
        producer.start()
        deadline = time.monotonic() + 30
        while len(received) < count and time.monotonic() < deadline:
            entries = spool.read(max_records=7)
            if entries:
                received.extend(data for _, data in entries)
                spool.acknowledge(entries[-1][0])
        producer.join()
        stats = spool.stats()

    assert received == [payload(i) for i in range(count)]
    assert (stats.pending_records, stats.acknowledged_total) == (0, count)
    assert stats.segments == len(segments(tmp_path))


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=4), max_size=12
    ),
    reads=st.integers(min_value=1, max_value=5),
)
def test_any_payload_sizes_round_trip_through_reopening(
    batches: list[list[int]], reads: int
) -> None:
    sizes = [size for batch in batches for size in batch]
    expected = [bytes([i % 256]) * size for i, size in enumerate(sizes)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with Spool(directory, segment_bytes=1024, fsync=False) as spool:
            start = 0
            for batch in batches:
                spool.append(expected[start : start + len(batch)])
                start += len(batch)
            entries = spool.read(max_records=reads)
            if entries:
                spool.acknowledge(entries[-1][0])
        with Spool(directory, segment_bytes=1024, fsync=False) as spool:
            assert read_all(spool) == expected[len(entries) :]
            assert spool.stats().disk_bytes == disk_bytes(directory)
