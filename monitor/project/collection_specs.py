"""A model's ``collection`` block: how the sidecar finds the model in another server's traffic.

For a model that Driftline does not serve, the sidecar records it from a reverse proxy in
front of its server or from a payload logger's CloudEvents. By default it recognises the Open
Inference Protocol v2 and KServe v1 bodies under the model's own name; this block says what
differs: the name the server uses, further proxy routes, and where custom JSON keeps the
features and outputs. The sidecar's command-line options (``--model-name``, ``--proxy-route``,
``--payload``) override it model by model.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, model_validator

from monitor.project._base import Spec, Text, check_unique, spec_error

__all__ = ["CollectionSpec", "PayloadForm", "PayloadSpec"]

PayloadForm = Literal["auto", "oip_v2", "kserve_v1", "json"]
"""The wire form of a model server's bodies (``collectors.extract.Form``)."""

_DOTTED = re.compile(r"[^.\s]+(\.[^.\s]+)*")
_ROUTE = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def _check_path(value: str) -> str:
    if not _DOTTED.fullmatch(value):
        raise spec_error("must be a dotted path of keys or list positions, e.g. data.rows")
    return value


def _check_route(value: str) -> str:
    if not _ROUTE.fullmatch(value):
        raise spec_error("must be a URL path starting with '/', e.g. /predict")
    return value


DottedPath = Annotated[str, AfterValidator(_check_path)]
RoutePath = Annotated[str, AfterValidator(_check_route)]


class PayloadSpec(Spec):
    """Where a model server's requests and responses keep what Driftline records."""

    form: PayloadForm = "auto"
    """``auto`` recognises OIP v2 and KServe v1 (and means ``json`` when ``features`` is set);
    ``oip_v2``, ``kserve_v1`` or ``json`` force one."""
    features: DottedPath | None = None
    """``json``: path in the request to the rows (objects by feature name, or lists in
    feature order), or to one row."""
    prediction: DottedPath | None = None
    """``json``: path in the response to the predictions (one per row); ``oip_v2``: the
    output's name."""
    probabilities: DottedPath | None = None
    """``json``: path in the response to the class probabilities; ``oip_v2``: the output's
    name."""
    request_id: DottedPath | None = None
    """``json``: path in the request to the call's id."""

    @model_validator(mode="after")
    def _check_something_is_said(self) -> Self:
        if not {"features", "prediction", "probabilities", "request_id"} & self.model_fields_set:
            msg = "must set at least one of features, prediction, probabilities, request_id"
            raise spec_error(msg, got_mode="none")
        return self

    @property
    def wire_form(self) -> PayloadForm:
        """The form the sidecar reads: ``auto`` with ``features`` set means ``json``."""
        return "json" if self.form == "auto" and self.features is not None else self.form


class CollectionSpec(Spec):
    """How the sidecar records this model from traffic it does not serve."""

    server_names: tuple[Text, ...] = ()
    """Names the model server or payload logger uses for this model, when they are not
    the model's own name."""
    proxy_routes: tuple[RoutePath, ...] = ()
    """Further POST paths the reverse proxy records as this model (the OIP v2 and KServe
    v1 routes that name the model are recorded anyway)."""
    payload: PayloadSpec | None = None
    """Where custom bodies keep the features and outputs."""

    @model_validator(mode="after")
    def _check_unique(self) -> Self:
        check_unique(self.server_names, ("server_names",), "server name")
        check_unique(self.proxy_routes, ("proxy_routes",), "route")
        return self
