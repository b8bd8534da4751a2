"""Snapshots of a learning model on disk, and the pointer every serving process follows.

Layout under the snapshot directory, one folder per model::

    <dir>/<model>/<version>.pkl     the pickled model, written once, never changed
    <dir>/<model>/current.json      {"version", "file", "sha256", "sequence"}: what to serve

Files are written to a temporary name, flushed to disk and renamed, so a reader sees a
whole file or none. A snapshot is read back only if its SHA-256 is the one recorded with it
(in the store and in ``current.json``): unpickling runs code, so only the learner's own,
unchanged files are ever loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from serving.errors import RuntimeLoadError

__all__ = [
    "Published",
    "SnapshotFile",
    "publish",
    "read_published",
    "read_snapshot",
    "write_snapshot",
]

_POINTER = "current.json"


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """A snapshot written to disk."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Published:
    """The snapshot serving processes should serve."""

    version: str
    file: str
    sha256: str
    sequence: int


def write_snapshot(directory: str | Path, model: str, version: str, state: Any) -> SnapshotFile:
    """Pickle ``state`` to ``<directory>/<model>/<version>.pkl``; returns its path and digest."""
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    path = Path(directory) / model / f"{version}.pkl"
    _write_atomically(path, data)
    return SnapshotFile(str(path.resolve()), hashlib.sha256(data).hexdigest())


def read_snapshot(path: str | Path, sha256: str) -> Any:
    """The model pickled at ``path``, if its digest is ``sha256``.

    Raises
    ------
    RuntimeLoadError
        If the file is missing, changed since it was written, or does not unpickle.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise RuntimeLoadError(f"cannot read snapshot {path}: {error}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeLoadError(
            f"snapshot {path} has SHA-256 {digest[:12]}…, not the recorded {sha256[:12]}…; "
            "refusing to unpickle a file that changed"
        )
    try:
        return pickle.loads(data)
    except Exception as error:  # unpickling raises anything a class's __setstate__ raises
        raise RuntimeLoadError(f"cannot load snapshot {path}: {error}") from error


def publish(directory: str | Path, model: str, published: Published) -> None:
    """Point every serving process of ``model`` at ``published``."""
    data = json.dumps(asdict(published), sort_keys=True).encode()
    _write_atomically(Path(directory) / model / _POINTER, data)


def read_published(directory: str | Path, model: str) -> Published | None:
    """What ``model``'s serving processes should serve; None before the first publication."""
    path = Path(directory) / model / _POINTER
    try:
        document = json.loads(path.read_bytes())
        return Published(
            version=str(document["version"]),
            file=str(document["file"]),
            sha256=str(document["sha256"]),
            sequence=int(document["sequence"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RuntimeLoadError(f"cannot read {path}: {error}") from None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
