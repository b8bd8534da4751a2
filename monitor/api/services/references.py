"""Reference datasets through the API: uploads checked parameter by parameter."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.api.services.errors import InvalidRequestError
from monitor.errors import ConfigError
from monitor.references import FileFormat, check_name, upload_reference
from storage.errors import NotFoundError
from storage.repositories.models import get_model_version
from storage.repositories.references import ReferenceInfo

__all__ = ["upload"]

SessionFactory = Callable[[], Session]


def upload(
    engine: Engine,
    sessions: SessionFactory,
    model_name: str,
    data: bytes,
    *,
    name: str,
    version: str | None,
    file_format: FileFormat | None,
    replace: bool,
) -> ReferenceInfo:
    """Check, convert and store an uploaded reference file.

    Raises
    ------
    NotFoundError
        If the model does not exist.
    InvalidRequestError
        If the name is malformed, the version does not exist, or the file cannot be read
        or does not fit the model version (``loc`` says which).
    ConflictError
        If the reference exists and ``replace`` is false.
    """
    with sessions() as session:
        get_model_version(session, model_name)  # NotFoundError: the model in the path
        if version is not None:
            try:
                get_model_version(session, model_name, version)
            except NotFoundError as error:
                raise InvalidRequestError(("query", "version"), str(error)) from None
    try:
        check_name(name)
    except ConfigError as error:
        raise InvalidRequestError(("query", "name"), str(error)) from None
    try:
        return upload_reference(
            engine,
            model_name,
            data,
            name=name,
            version=version,
            file_format=file_format,
            replace=replace,
        )
    except ConfigError as error:
        raise InvalidRequestError(("body",), str(error)) from None
