"""The whole project file: its sections, and the references between them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Annotated, Literal, Protocol, Self, TypeVar

from pydantic import BeforeValidator, Field, model_validator

from monitor.errors import NotDeclaredError
from monitor.project._base import Loc, Spec, check_unique, spec_error
from monitor.project.alert_rules import AlertingSpec, AlertRuleSpec, check_rule_references
from monitor.project.channels import Channel
from monitor.project.composite_specs import check_composites
from monitor.project.model_specs import ModelSpec
from monitor.project.monitors import MonitorSpec
from monitor.project.server_specs import ServerSpec
from monitor.project.transport_specs import DirectTransport, Transport

__all__ = ["Project"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_T = TypeVar("_T", bound=_Named)


def _exactly_one(value: object) -> object:
    """Keep ``true`` and ``1.0`` from passing as version ``1``."""
    if type(value) is not int or value != 1:
        raise spec_error("must be 1")
    return value


class Project(Spec):
    """A parsed, validated ``driftline.yaml``; build it with :func:`load_project`."""

    version: Annotated[Literal[1], BeforeValidator(_exactly_one)]
    """Version of the file format; only ``1`` exists."""
    models: tuple[ModelSpec, ...] = ()
    """Monitored models."""
    monitors: tuple[MonitorSpec, ...] = ()
    """Scheduled checks on the models' records."""
    alert_rules: tuple[AlertRuleSpec, ...] = ()
    """Conditions on monitor results that fire alerts."""
    channels: tuple[Channel, ...] = ()
    """Where alerts are sent."""
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    """How alerts are grouped, timed and inhibited on their way to channels."""
    serving: ServerSpec = Field(default_factory=ServerSpec)
    """How ``driftline serve`` runs: its worker processes and shutdown grace period."""
    transport: Transport = Field(default_factory=lambda: DirectTransport(type="direct"))
    """How recorded batches travel from the sidecars to the store: ``direct`` or
    ``jetstream``."""

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        for section in ("models", "monitors", "alert_rules", "channels"):
            items: Sequence[_Named] = getattr(self, section)
            check_unique([item.name for item in items], (section,), "name", field="name")
        models = {model.name: model for model in self.models}
        self._check_collection(models)
        check_composites(self.models)
        for index, monitor in enumerate(self.monitors):
            at: Loc = ("monitors", index)
            _check_known(monitor.model, models, "model", "declared models", (*at, "model"))
            model = models[monitor.model]
            if monitor.kind == "online_learning" and (
                model.serving is None or model.serving.learning != "online"
            ):
                msg = (
                    f"model {monitor.model!r} does not learn online (serving.learning: online); "
                    "an online_learning monitor reads what its learner did"
                )
                raise spec_error(msg, at=(*at, "kind"), got_mode="none")
            features = model.feature_names
            label = f"features of model {monitor.model!r}"
            for position, feature in enumerate(monitor.features or ()):
                where = (*at, "features", position)
                _check_known(feature, features, "feature", label, where)
        for index, rule in enumerate(self.alert_rules):
            self._check_rule(rule, ("alert_rules", index))
        return self

    @staticmethod
    def _check_collection(models: dict[str, ModelSpec]) -> None:
        """A server name or proxy route leads to one model only."""
        owners: dict[tuple[str, str], str] = {}
        for index, model in enumerate(models.values()):
            if model.collection is None:
                continue
            for field, values in (
                ("server_names", model.collection.server_names),
                ("proxy_routes", model.collection.proxy_routes),
            ):
                for position, value in enumerate(values):
                    at: Loc = ("models", index, "collection", field, position)
                    if field == "server_names" and value in models and value != model.name:
                        msg = f"{value!r} is the name of model {value!r}; a name leads to one model"
                        raise spec_error(msg, at=at, got_mode="none")
                    owner = owners.setdefault((field, value), model.name)
                    if owner != model.name:
                        msg = f"{value!r} already leads to model {owner!r}"
                        raise spec_error(msg, at=at, got_mode="none")

    def _check_rule(self, rule: AlertRuleSpec, at: Loc) -> None:
        monitors = {monitor.name: monitor for monitor in self.monitors}
        types = {channel.name: str(channel.type) for channel in self.channels}
        _check_known(rule.monitor, monitors, "monitor", "declared monitors", (*at, "monitor"))
        for position, channel in enumerate(rule.channels):
            where = (*at, "channels", position)
            _check_known(channel, types, "channel", "declared channels", where)
        for position, channel in enumerate(rule.retrain.channels if rule.retrain else ()):
            where = (*at, "retrain", "channels", position)
            _check_known(channel, types, "channel", "declared channels", where)
        monitor = monitors[rule.monitor]
        model = self.model(monitor.model)
        check_rule_references(rule, monitor=monitor, model=model, channel_types=types, at=at)

    def model(self, name: str) -> ModelSpec:
        """The model called ``name``; raises :class:`~monitor.errors.NotDeclaredError` if none."""
        return _lookup(self.models, name, "model")

    def monitor(self, name: str) -> MonitorSpec:
        """The monitor called ``name``; raises :class:`~monitor.errors.NotDeclaredError` if none."""
        return _lookup(self.monitors, name, "monitor")

    def alert_rule(self, name: str) -> AlertRuleSpec:
        """The alert rule called ``name``; raises :class:`~monitor.errors.NotDeclaredError`."""
        return _lookup(self.alert_rules, name, "alert rule")

    def channel(self, name: str) -> Channel:
        """The channel called ``name``; raises :class:`~monitor.errors.NotDeclaredError` if none."""
        return _lookup(self.channels, name, "channel")


def _check_known(name: str, declared: Collection[str], what: str, label: str, at: Loc) -> None:
    """Raise unless ``name`` is one of ``declared``; ``label`` introduces the listing."""
    if name in declared:
        return
    listing = f"{label}: {', '.join(declared) or '(none)'}"
    raise spec_error(
        f"unknown {what} {name!r}; {listing}", at=at, redacted=f"unknown {what}; {listing}"
    )


def _lookup(items: Sequence[_T], name: str, what: str) -> _T:
    for item in items:
        if item.name == name:
            return item
    listing = ", ".join(item.name for item in items) or "(none)"
    msg = f"no {what} named {name!r} in the project; declared {what}s: {listing}"
    raise NotDeclaredError(msg)
