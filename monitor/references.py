"""Reference datasets as a service: upload a file, validate it, turn it into a window.

Used by ``driftline reference`` and by the REST API. Uploading is three steps, each also
public so a caller can show progress between them: :func:`read_reference_file` (CSV or
Parquet, from a path or from bytes), :func:`prepare_reference` (checked against the model
version and normalised to Parquet) and :func:`store_reference`; :func:`upload_reference`
runs all three. :func:`reference_window` reads a stored reference as a
:class:`storage.Window`, cached per content.

Errors: :class:`ReferenceDataError` or :class:`monitor.errors.DataFileError` for a file that
cannot be used (both are :class:`monitor.errors.ConfigError`); :class:`storage.NotFoundError`
and :class:`storage.ConflictError` from the store pass through.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import pandas as pd
from sqlalchemy.engine import Engine

from monitor.errors import DataFileError
from monitor.frames import read_frame
from monitor.reference_validation import PreparedReference, ReferenceDataError, prepare_reference
from monitor.reference_windows import ReferenceWindowCache, reference_window
from storage import create_session_factory, get_model_version
from storage.repositories.references import ReferenceInfo, check_reference_name, save_reference

__all__ = [
    "FileFormat",
    "PreparedReference",
    "ReferenceDataError",
    "ReferenceWindowCache",
    "check_name",
    "prepare_reference",
    "prepare_upload",
    "read_reference_file",
    "reference_window",
    "store_reference",
    "upload_reference",
]

FileFormat = Literal["csv", "parquet"]
#: What a caller names the data when it did not come from a file.
REQUEST_BODY = "request body"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"


def check_name(name: str) -> None:
    """Raise :class:`ReferenceDataError` unless ``name`` can name a reference dataset."""
    try:
        check_reference_name(name)
    except ValueError as exc:
        raise ReferenceDataError(str(exc)) from None


def read_reference_file(
    data: bytes | Path, *, file_format: FileFormat | None = None
) -> tuple[pd.DataFrame, str]:
    """Read CSV or Parquet into a frame; also return the source named in messages.

    Parameters
    ----------
    data
        A file, or its bytes.
    file_format
        ``"csv"`` or ``"parquet"``; by default the file name's ending decides (see
        :func:`monitor.frames.read_frame`), and bytes starting with ``PAR1`` are Parquet,
        other bytes CSV (gzip-compressed or not).

    Raises
    ------
    DataFileError
        The file is missing, unreadable, of an unknown type, malformed or has no rows.
    ReferenceDataError
        ``file_format`` is not one of the two formats.
    """
    if file_format is not None and file_format not in get_args(FileFormat):
        formats = " or ".join(repr(f) for f in get_args(FileFormat))
        raise ReferenceDataError(f"file format must be {formats}, got {file_format!r}")
    if isinstance(data, Path):
        if file_format is None:
            return read_frame(data), str(data)
        if not data.exists():
            raise DataFileError(f"{data}: file not found")
        if data.is_dir():
            raise DataFileError(f"{data}: is a directory, not a file")
        try:
            content = data.read_bytes()
        except OSError as exc:
            raise DataFileError(f"{data}: cannot read: {exc.strerror or exc}") from None
        return _parse(content, file_format, str(data)), str(data)
    if not isinstance(data, bytes):
        raise ReferenceDataError(f"expected a file path or bytes, got {type(data).__name__}")
    if file_format is None:
        file_format = "parquet" if data.startswith(_PARQUET_MAGIC) else "csv"
    return _parse(data, file_format, REQUEST_BODY), REQUEST_BODY


def _parse(data: bytes, file_format: FileFormat, source: str) -> pd.DataFrame:
    if not data:
        raise DataFileError(f"{source}: empty file, no header and no rows")
    is_csv = file_format == "csv"
    try:
        if is_csv:
            compression = "gzip" if data.startswith(_GZIP_MAGIC) else None
            frame = pd.read_csv(io.BytesIO(data), compression=compression, low_memory=False)
        else:
            frame = pd.read_parquet(io.BytesIO(data))
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{source}: empty file, no header and no rows") from None
    except (ValueError, OSError, EOFError) as exc:  # parser, decoding, Arrow, gzip, I/O
        what = "malformed CSV" if is_csv else "unreadable Parquet"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataFileError(f"{source}: {what}: {reason}") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataFileError(f"{source}: no data rows")
    return frame


def prepare_upload(
    engine: Engine,
    model_name: str,
    data: bytes | Path,
    *,
    version: str | None = None,
    file_format: FileFormat | None = None,
    on_step: Callable[[str], None] | None = None,
) -> PreparedReference:
    """Read ``data`` and check it against a model version (the newest by default).

    ``on_step`` is called with ``"reading"`` and ``"validating"`` as each step starts.
    """
    step = on_step or (lambda _: None)
    with create_session_factory(engine)() as session:
        handle = get_model_version(session, model_name, version)
    step("reading")
    frame, source = read_reference_file(data, file_format=file_format)
    step("validating")
    return prepare_reference(frame, handle, source=source)


def store_reference(
    engine: Engine, prepared: PreparedReference, *, name: str, replace: bool = False
) -> ReferenceInfo:
    """Store a prepared reference under ``name`` for the version it was checked against."""
    check_name(name)
    return save_reference(
        engine,
        model_name=prepared.model_name,
        name=name,
        data=prepared.data,
        row_count=prepared.row_count,
        version=prepared.version,
        replace=replace,
    )


def upload_reference(
    engine: Engine,
    model_name: str,
    data: bytes | Path,
    *,
    name: str = "training",
    version: str | None = None,
    file_format: FileFormat | None = None,
    replace: bool = False,
) -> ReferenceInfo:
    """Read, check and store a reference dataset of a model.

    Parameters
    ----------
    data
        A CSV or Parquet file, or its bytes (see :func:`read_reference_file`).
    name
        The reference's name, unique per model.
    version
        The model version to check the data against (default: the newest).
    file_format
        ``"csv"`` or ``"parquet"`` (default: from the file name, or sniffed from bytes).
    replace
        Overwrite a reference of the same name.

    Raises
    ------
    ReferenceDataError, monitor.errors.DataFileError
        The name is malformed, or the data cannot be read or does not fit the model.
    storage.NotFoundError
        The model or version does not exist.
    storage.ConflictError
        The model has a reference of that name and ``replace`` is false.
    """
    check_name(name)
    prepared = prepare_upload(engine, model_name, data, version=version, file_format=file_format)
    return store_reference(engine, prepared, name=name, replace=replace)
