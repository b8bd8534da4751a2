"""``/api/v1/alert-rules``: list and read (read scope); create, replace, delete (admin scope).

Rules declared in the project file are listed with ``"source": "project"`` and cannot be
changed here (409); the API's own rules have ``"source": "api"``. Both kinds are evaluated
on every result of their monitor. Channels are declared only in the project file.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Path, Query, Response

from monitor.api.context import API_PREFIX, Context
from monitor.api.params import MAX_NAME
from monitor.api.routes_declared import DeclaredResource, declared_routes
from monitor.api.schemas_alerting import AlertRuleList, AlertRuleOut, AlertRuleReplacement
from monitor.api.services.alert_rules import create_rule, remove_rule, replace_rule, rules_of
from monitor.api.validation import CONTROL_FREE
from monitor.project.alert_rules import AlertRuleSpec
from storage.repositories.alerting import get_rule

__all__ = ["alert_rules_router"]

_EXAMPLE: Final[dict[str, Any]] = {
    "name": "credit-drift-high",
    "monitor": "credit-drift",
    "condition": {"metric": "drift_share", "op": ">", "value": 0.3},
    "for": "2h",
    "severity": "warning",
    "channels": ["ops-slack"],
}
RuleName = Annotated[
    str,
    Path(description="The alert rule's name.", max_length=MAX_NAME, pattern=CONTROL_FREE),
]


def list_alert_rules(
    context: Context,
    monitor: Annotated[
        str | None,
        Query(description="Only this monitor's rules.", max_length=MAX_NAME, pattern=CONTROL_FREE),
    ] = None,
) -> AlertRuleList:
    """Alert rules by name, from the project file and the API."""
    found = rules_of(context.engine, monitor_name=monitor)
    return AlertRuleList(items=[AlertRuleOut.of(info) for info in found])


def get_one(name: RuleName, context: Context) -> AlertRuleOut:
    """One alert rule."""
    return AlertRuleOut.of(get_rule(context.engine, name))


def create(
    spec: Annotated[AlertRuleSpec, Body(openapi_examples={"drift": {"value": _EXAMPLE}})],
    context: Context,
    response: Response,
) -> AlertRuleOut:
    """Create an alert rule from a spec (the project file's ``alert_rules`` item schema)."""
    info = create_rule(context.engine, context.sessions, spec)
    response.headers["Location"] = f"{API_PREFIX}/alert-rules/{info.name}"
    return AlertRuleOut.of(info)


def replace(name: RuleName, body: AlertRuleReplacement, context: Context) -> AlertRuleOut:
    """Replace an alert rule's spec; the body's ``name`` may be left out."""
    return AlertRuleOut.of(replace_rule(context.engine, context.sessions, name, body))


def delete(name: RuleName, context: Context) -> Response:
    """Delete an alert rule and its alerts."""
    remove_rule(context.engine, name)
    return Response(status_code=204)


def alert_rules_router() -> APIRouter:
    """The alert-rules routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/alert-rules", tags=["alert rules"])
    resource = DeclaredResource(
        one="an alert rule",
        many="alert rules",
        location_noun="rule",
        list_items=list_alert_rules,
        create=create,
        get_one=get_one,
        replace=replace,
        delete=delete,
        listing=AlertRuleList,
        item=AlertRuleOut,
    )
    return declared_routes(router, resource)
