"""Creating, replacing and deleting alert rules through the API, checked against the store.

A spec that pydantic accepted is checked again here against what exists, as the project
file's loader checks it against the file
(:func:`~monitor.project.alert_rules.check_rule_references`): the monitor, the condition's
metric against the monitor's kind, features and params, and the channels and their types.
Each problem raises :class:`InvalidRequestError` pointing at the body field; the store's
own errors (:class:`NotFoundError`, :class:`ConflictError`) pass through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.alerting.service import rule_draft
from monitor.api.schemas_alerting import AlertRuleReplacement
from monitor.api.services.errors import InvalidRequestError, check_storable
from monitor.project._base import Loc
from monitor.project.alert_rules import AlertRuleSpec, check_rule_references
from monitor.project.model_specs import FeatureSpec, ModelSpec
from monitor.project.monitors import MonitorSpec
from storage.errors import ConflictError, NotFoundError
from storage.repositories.alerting import (
    RuleDraft,
    RuleInfo,
    channel_types,
    delete_rule,
    get_rule,
    list_rules,
    put_rule,
)
from storage.repositories.models import get_model_version
from storage.repositories.monitors import MonitorInfo, get_monitor, list_monitors

__all__ = ["create_rule", "remove_rule", "replace_rule", "rules_of"]

SessionFactory = Callable[[], Session]
_BODY: Loc = ("body",)
_RETRAIN = "retrain"


def rules_of(engine: Engine, *, monitor_name: str | None = None) -> list[RuleInfo]:
    """Rules by name, from the project file and the API, optionally of one monitor."""
    if monitor_name is not None:
        _find_monitor(engine, monitor_name, ("query", "monitor"))
    with engine.connect() as connection:
        return list_rules(connection, monitor_name=monitor_name)


def create_rule(engine: Engine, sessions: SessionFactory, spec: AlertRuleSpec) -> RuleInfo:
    """Store a new API rule.

    Raises
    ------
    ConflictError
        If a rule of that name exists (from the API or the project file).
    InvalidRequestError
        If the spec names a monitor or channel that does not exist, a channel of the wrong
        type, or a metric its monitor does not offer.
    """
    draft = checked_draft(engine, sessions, spec)
    try:
        return put_rule(engine, draft, source="api", mode="create")
    except ConflictError as error:
        hint = f"replace it with PUT /api/v1/alert-rules/{spec.name} or choose another name"
        raise ConflictError(f"{error}; {hint}") from None


def replace_rule(
    engine: Engine, sessions: SessionFactory, name: str, body: AlertRuleReplacement
) -> RuleInfo:
    """Replace the spec of the API rule ``name`` with ``body``.

    Raises
    ------
    NotFoundError
        If there is no rule ``name``.
    ConflictError
        If it is declared in the project file.
    InvalidRequestError
        As :func:`create_rule`, or if the body names another rule.
    """
    if body.name is not None and body.name != name:
        msg = f"must be the rule's name in the path, {name!r}, or left out; got {body.name!r}"
        raise InvalidRequestError(("body", "name"), msg)
    try:
        existing = get_rule(engine, name)
    except NotFoundError as error:
        raise NotFoundError(f"{error}; create it with POST /api/v1/alert-rules") from None
    if existing.source == "project":
        raise ConflictError(f"alert rule {name!r} is declared in the project file; change it there")
    fields = body.model_dump(mode="json", by_alias=True, exclude={"name"})
    spec = AlertRuleSpec.model_validate({**fields, "name": name})
    draft = checked_draft(engine, sessions, spec)
    try:
        return put_rule(engine, draft, source="api", mode="replace")
    except NotFoundError as error:  # deleted meanwhile, or its monitor
        raise NotFoundError(f"{error}; create it with POST /api/v1/alert-rules") from None


def remove_rule(engine: Engine, name: str) -> None:
    """Delete the API rule ``name`` with its alerts.

    Raises
    ------
    NotFoundError
        If there is no rule ``name``.
    ConflictError
        If it is declared in the project file.
    """
    delete_rule(engine, name, source="api")


def checked_draft(engine: Engine, sessions: SessionFactory, spec: AlertRuleSpec) -> RuleDraft:
    """The draft to store for ``spec``, once it is checked against the store."""
    config = spec.model_dump(mode="json", by_alias=True)
    check_storable(config, _BODY)  # the store cannot hold a NUL in JSON
    monitor = _monitor_spec(engine, spec.monitor)
    model = _model_spec(sessions, monitor)
    with engine.connect() as connection:
        types = channel_types(connection)
    _check_channels_exist(spec, types)
    try:
        check_rule_references(spec, monitor=monitor, model=model, channel_types=types, at=_BODY)
    except PydanticCustomError as error:
        context = error.context or {}
        raise InvalidRequestError(tuple(context.get("at", _BODY)), error.message()) from None
    return rule_draft(spec)


def _find_monitor(engine: Engine, name: str, at: Loc) -> MonitorInfo:
    try:
        return get_monitor(engine, name)
    except NotFoundError:
        known = ", ".join(info.name for info in list_monitors(engine)) or "(none)"
        raise InvalidRequestError(at, f"unknown monitor {name!r}; monitors: {known}") from None


def _monitor_spec(engine: Engine, name: str) -> MonitorSpec:
    at: Loc = ("body", "monitor")
    config = _find_monitor(engine, name, at).config
    try:
        return MonitorSpec.model_validate(config)
    except ValidationError:
        msg = f"monitor {name!r} has a stored spec that cannot be read; fix the monitor first"
        raise InvalidRequestError(at, msg) from None


def _model_spec(sessions: SessionFactory, monitor: MonitorSpec) -> ModelSpec:
    """What :func:`~monitor.project.alert_rules.monitor_facts` reads of the monitor's model.

    Built from the store (API monitors may watch models no project file declares) without
    validation: the registry is the authority on its own models.
    """
    with sessions() as session:
        try:
            handle = get_model_version(session, monitor.model, monitor.version)
        except NotFoundError as error:
            msg = f"monitor {monitor.name!r} watches a model the store lacks: {error}"
            raise InvalidRequestError(("body", "monitor"), msg) from None
    features = tuple(
        FeatureSpec.model_construct(name=f.name, kind=f.kind.value, dims=f.dims)
        for f in handle.schema.features
    )
    return ModelSpec.model_construct(
        name=handle.model_name,
        task=handle.task.value,
        classes=handle.classes or None,
        version=handle.version,
        features=features,
    )


def _check_channels_exist(spec: AlertRuleSpec, types: Mapping[str, str]) -> None:
    ordinary = sorted(name for name, kind in types.items() if kind != _RETRAIN)
    retrain = sorted(name for name, kind in types.items() if kind == _RETRAIN)
    lists: list[tuple[Loc, tuple[str, ...], list[str]]] = [
        (("body", "channels"), spec.channels, ordinary)
    ]
    if spec.retrain is not None:
        lists.append((("body", "retrain", "channels"), spec.retrain.channels, retrain))
    for at, names, offered in lists:
        for position, name in enumerate(names):
            if name not in types:
                listing = ", ".join(offered) or "(none)"
                msg = f"unknown channel {name!r}; channels in the project file: {listing}"
                raise InvalidRequestError((*at, position), msg)
