"""Creating, replacing and deleting monitors through the API, checked against the store.

A spec that pydantic accepted is checked again here against what exists: the model (and
version), the features of that version, the reference dataset, and the kind's ``params``.
Each problem raises :class:`InvalidRequestError` pointing at the body field; the store's
own errors (:class:`NotFoundError`, :class:`ConflictError`) pass through.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.api.schemas import MonitorReplacement
from monitor.api.services.errors import InvalidRequestError, check_storable
from monitor.kinds import MonitorParamsError, validate_params
from monitor.project._base import Loc
from monitor.project.monitors import DatasetReference, MonitorSpec
from storage.errors import ConflictError, NotFoundError
from storage.repositories.models import ModelHandle, get_model_version
from storage.repositories.monitors import (
    MonitorDraft,
    MonitorInfo,
    get_monitor,
    list_monitors,
    put_monitor,
)
from storage.repositories.references import get_reference

__all__ = ["create_monitor", "monitors_of", "replace_monitor"]

SessionFactory = Callable[[], Session]
_BODY: Loc = ("body",)


def monitors_of(
    engine: Engine,
    sessions: SessionFactory,
    *,
    model_name: str | None = None,
    enabled: bool | None = None,
) -> list[MonitorInfo]:
    """Monitors by name, optionally of one (registered) model and enabled state."""
    if model_name is not None:
        _model(sessions, model_name, None, ("query",))
    return list_monitors(engine, model_name=model_name, enabled=enabled)


def create_monitor(engine: Engine, sessions: SessionFactory, spec: MonitorSpec) -> MonitorInfo:
    """Store a new API monitor.

    Raises
    ------
    ConflictError
        If a monitor of that name exists (from the API or the project file).
    InvalidRequestError
        If the spec names a model, version, feature or reference that does not exist, or
        its params do not suit its kind.
    """
    draft = checked_draft(engine, sessions, spec)
    try:
        return put_monitor(engine, draft, source="api", mode="create")
    except ConflictError as error:
        msg = f"{error}; replace it with PUT /api/v1/monitors/{spec.name} or choose another name"
        raise ConflictError(msg) from None


def replace_monitor(
    engine: Engine, sessions: SessionFactory, name: str, body: MonitorReplacement
) -> MonitorInfo:
    """Replace the spec of the API monitor ``name`` with ``body``.

    Raises
    ------
    NotFoundError
        If there is no monitor ``name``.
    ConflictError
        If it is declared in the project file.
    InvalidRequestError
        As :func:`create_monitor`, or if the body names another monitor.
    """
    if body.name is not None and body.name != name:
        msg = f"must be the monitor's name in the path, {name!r}, or left out; got {body.name!r}"
        raise InvalidRequestError(("body", "name"), msg)
    try:
        get_monitor(engine, name)
    except NotFoundError as error:
        raise NotFoundError(f"{error}; create it with POST /api/v1/monitors") from None
    spec = MonitorSpec.model_validate({**body.model_dump(exclude={"name"}), "name": name})
    draft = checked_draft(engine, sessions, spec)
    try:
        return put_monitor(engine, draft, source="api", mode="replace")
    except NotFoundError as error:  # deleted meanwhile
        raise NotFoundError(f"{error}; create it with POST /api/v1/monitors") from None


def checked_draft(engine: Engine, sessions: SessionFactory, spec: MonitorSpec) -> MonitorDraft:
    """The draft to store for ``spec``, once it is checked against the store."""
    config = spec.model_dump(mode="json")
    check_storable(config, _BODY)  # first: the store cannot even compare a NUL
    handle = _model(sessions, spec.model, spec.version, _BODY)
    for index, feature in enumerate(spec.features or ()):
        if feature not in handle.schema:
            names = ", ".join(f.name for f in handle.schema.features)
            msg = (
                f"unknown feature {feature!r} of model {spec.model!r} version "
                f"{handle.version!r}; its features: {names}"
            )
            raise InvalidRequestError(("body", "features", index), msg)
    if isinstance(spec.reference, DatasetReference):
        try:
            get_reference(engine, spec.model, spec.reference.dataset)
        except NotFoundError as error:
            raise InvalidRequestError(("body", "reference", "dataset"), str(error)) from None
    _check_params(spec, handle)
    return MonitorDraft(
        name=spec.name,
        model_name=spec.model,
        kind=spec.kind,
        config=config,
        enabled=spec.enabled,
    )


def _model(sessions: SessionFactory, name: str, version: str | None, at: Loc) -> ModelHandle:
    with sessions() as session:
        try:
            handle = get_model_version(session, name)
        except NotFoundError as error:
            raise InvalidRequestError((*at, "model"), str(error)) from None
        if version is None:
            return handle
        try:
            return get_model_version(session, name, version)
        except NotFoundError as error:
            raise InvalidRequestError((*at, "version"), str(error)) from None


def _check_params(spec: MonitorSpec, handle: ModelHandle) -> None:
    try:
        validate_params(
            spec.kind, spec.params, task=handle.task.value, has_reference=spec.reference is not None
        )
    except MonitorParamsError as error:
        loc: Loc = ("body", "params", *error.keys) if len(error.keys) == 1 else ("body", "params")
        raise InvalidRequestError(loc, str(error)) from None
