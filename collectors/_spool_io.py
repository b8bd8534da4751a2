"""File primitives of the spool: whole writes, directory fsync, durable replace, the lock.

Follows fsync(2) and rename(2): data is durable once its file is fsynced, a file's *name*
(creation, rename, unlink) once its directory is; a durable replace is write temp → fsync temp
→ ``os.replace`` → fsync directory.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from collectors.errors import SpoolLockedError

__all__ = ["fsync_directory", "lock_directory", "replace_durably", "write_all"]

_LOCK_NAME = "lock"


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``, looping over short writes."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(directory: Path) -> None:
    """Make the names in ``directory`` (created, renamed, removed files) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Atomically make ``path`` hold ``data``: readers see the old bytes or the new, never a mix.

    With ``sync`` the new content and its name are on stable storage when this returns.
    """
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    if sync:
        fsync_directory(path.parent)


def lock_directory(directory: Path) -> int:
    """Take an exclusive ``flock`` on ``directory/lock``; return its descriptor (close to release).

    The kernel drops the lock when the process dies, ``kill -9`` included, so a crashed
    sidecar never leaves its spool locked.

    Raises
    ------
    SpoolLockedError
        Another open spool, in this process or another, holds the lock.
    """
    path = directory / _LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolLockedError(
            f"{directory}: the spool is already open (lock {path} is held); "
            "one spool directory serves one process"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd
