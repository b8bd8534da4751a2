"""Snapshot files are read back only unchanged; the pointer followers read."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.errors import RuntimeLoadError
from serving.online.snapshots import (
    Published,
    publish,
    read_published,
    read_snapshot,
    write_snapshot,
)


def test_a_snapshot_round_trips_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    written = write_snapshot(tmp_path, "m", "1-s1", {"weights": [1.0, 2.0]})
    assert read_snapshot(written.path, written.sha256) == {"weights": [1.0, 2.0]}
    Path(written.path).write_bytes(Path(written.path).read_bytes() + b"\x00")
    with pytest.raises(RuntimeLoadError, match="refusing to unpickle a file that changed"):
        read_snapshot(written.path, written.sha256)
    with pytest.raises(RuntimeLoadError, match="cannot read snapshot"):
        read_snapshot(tmp_path / "missing.pkl", written.sha256)


def test_the_pointer_names_what_to_serve(tmp_path: Path) -> None:
    assert read_published(tmp_path, "m") is None
    published = Published("1-s2", "/x/1-s2.pkl", "ab" * 32, 2)
    publish(tmp_path, "m", published)
    assert read_published(tmp_path, "m") == published
    (tmp_path / "m" / "current.json").write_text("{")
    with pytest.raises(RuntimeLoadError, match="cannot read"):
        read_published(tmp_path, "m")
