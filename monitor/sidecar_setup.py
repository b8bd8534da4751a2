"""``driftline sidecar``: the ingest and feedback APIs in front of a spool and the store.

With ``--proxy-to URL`` the same process also serves a reverse proxy to that model server on
``--proxy-port`` (:mod:`collectors.proxy`), and the sidecar port always takes payload-logger
CloudEvents (:mod:`collectors.cloudevents`). Both servers run under one event loop and share
one collector, spool and metrics registry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any, get_args

import uvicorn
from prometheus_client import CollectorRegistry

from collectors.auth import TokenAuthorizer
from collectors.cloudevents import CloudEventsReceiver
from collectors.collector import Collector
from collectors.extract import Form, PayloadSpec
from collectors.proxy import ReverseProxy
from collectors.sidecar import IngestService, create_sidecar_app
from monitor.errors import ConfigError
from monitor.project import Project
from monitor.recording import start_recording
from monitor.servers import http_server, serve_all
from monitor.settings import Settings
from storage import create_session_factory, display_url
from storage.repositories.token_cache import TokenVerifier

__all__ = ["TrafficOptions", "parse_pairs", "parse_payloads", "run_sidecar", "with_project"]

logger = logging.getLogger(__name__)

_READY_SHARE_OF_QUOTA = 0.95
_PAYLOAD_KEYS = ("form", "features", "prediction", "probabilities", "request_id")


@dataclass(frozen=True, slots=True)
class TrafficOptions:
    """Where the sidecar takes traffic from besides its ingest API."""

    proxy_to: str | None = None
    """Model server to put the reverse proxy in front of; None: no proxy."""
    proxy_port: int = 8002
    """Port of the reverse proxy."""
    proxy_timeout_seconds: float = 60.0
    """How long the upstream may stay silent while answering (then 504)."""
    proxy_routes: Mapping[str, str] = field(default_factory=dict)
    """Further recorded proxy routes: path → model."""
    model_names: Mapping[str, str] = field(default_factory=dict)
    """Model name used by the server or the payload logger → Driftline model."""
    payloads: Mapping[str, PayloadSpec] = field(default_factory=dict)
    """Model → where its payloads keep features and outputs."""
    cloudevents_auth: bool = True
    """Whether the CloudEvents routes need an ``ingest`` token (KServe's logger sends none)."""
    cloudevents_ttl_seconds: float = 30.0
    """How long half of a logged call waits for the other half."""


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``["a=b", ...]`` as a mapping; raises :class:`ConfigError` naming the option."""
    pairs: dict[str, str] = {}
    for value in values:
        key, _, target = value.partition("=")
        if not key.strip() or not target.strip():
            raise ConfigError(f"{option}: expected NAME=MODEL, got {value!r}")
        pairs[key.strip()] = target.strip()
    return pairs


def parse_payloads(values: Sequence[str]) -> dict[str, PayloadSpec]:
    """``["model:features=data.rows,prediction=result.label", ...]`` by model."""
    specs: dict[str, PayloadSpec] = {}
    for value in values:
        model, _, text = value.partition(":")
        fields: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, path = part.partition("=")
            if key.strip() not in _PAYLOAD_KEYS or not path.strip():
                known = ", ".join(_PAYLOAD_KEYS)
                msg = f"--payload {value!r}: expected KEY=PATH with KEY among {known}, got {part!r}"
                raise ConfigError(msg)
            fields[key.strip()] = path.strip()
        if not model.strip() or not set(fields) - {"form"}:
            raise ConfigError(f"--payload: expected MODEL:KEY=PATH,..., got {value!r}")
        fields.setdefault("form", "json" if "features" in fields else "auto")
        if fields["form"] not in get_args(Form):
            forms = ", ".join(get_args(Form))
            msg = f"--payload {value!r}: form must be one of {forms}"
            raise ConfigError(msg)
        specs[model.strip()] = PayloadSpec(**fields)
    return specs


def with_project(traffic: TrafficOptions, project: Project | None) -> TrafficOptions:
    """The options with the project's ``collection`` blocks under them: what the command
    line says about a server name, route or model wins over the project file."""
    if project is None:
        return traffic
    names: dict[str, str] = {}
    routes: dict[str, str] = {}
    payloads: dict[str, PayloadSpec] = {}
    for model in project.models:
        collection = model.collection
        if collection is None:
            continue
        names.update(dict.fromkeys(collection.server_names, model.name))
        routes.update(dict.fromkeys(collection.proxy_routes, model.name))
        if collection.payload is not None:
            spec = collection.payload
            payloads[model.name] = PayloadSpec(
                form=spec.wire_form,
                features=spec.features,
                prediction=spec.prediction,
                probabilities=spec.probabilities,
                request_id=spec.request_id,
            )
    return replace(
        traffic,
        model_names={**names, **traffic.model_names},
        proxy_routes={**routes, **traffic.proxy_routes},
        payloads={**payloads, **traffic.payloads},
    )


def run_sidecar(
    settings: Settings,
    project: Project | None,
    *,
    port: int,
    traffic: TrafficOptions | None = None,
) -> None:
    """Serve the sidecar (and the proxy) until interrupted; what is spooled stays."""
    traffic = with_project(traffic or TrafficOptions(), project)
    with ExitStack() as stack:
        registry = CollectorRegistry(auto_describe=True)
        recording = start_recording(
            settings, project, spool_name=f"sidecar-{port}", registry=registry, stack=stack
        )
        engine, spool, collector = recording.engine, recording.spool, recording.collector

        def ready() -> bool:
            stats = spool.stats()
            return stats.disk_bytes < _READY_SHARE_OF_QUOTA * stats.quota_bytes

        receiver = CloudEventsReceiver(
            collector.submit,
            collector.handle,
            registry=registry,
            names=traffic.model_names,
            specs=traffic.payloads,
            ttl_seconds=traffic.cloudevents_ttl_seconds,
        )
        authorize = TokenAuthorizer(TokenVerifier(create_session_factory(engine)))
        app = create_sidecar_app(
            IngestService(collector, engine),
            authorize=authorize,
            registry=registry,
            ready=ready,
            max_body_bytes=settings.max_body_bytes,
            cloudevents=receiver,
            cloudevents_auth=traffic.cloudevents_auth,
        )
        servers = [http_server(app, settings.host, port)]
        logger.info(
            "sidecar on http://%s:%d, recording into %s",
            settings.host,
            port,
            display_url(engine.url),
        )
        if traffic.proxy_to is not None:
            servers.append(_proxy_server(settings, traffic.proxy_to, traffic, collector, registry))
        serve_all(servers)


def _proxy_server(
    settings: Settings,
    upstream: str,
    traffic: TrafficOptions,
    collector: Collector,
    registry: CollectorRegistry,
) -> uvicorn.Server:
    try:
        proxy = ReverseProxy(
            upstream,
            collector.submit,
            collector.handle,
            registry=registry,
            routes=traffic.proxy_routes,
            names=traffic.model_names,
            specs=traffic.payloads,
            timeout_seconds=traffic.proxy_timeout_seconds,
        )
    except ValueError as error:
        raise ConfigError(f"--proxy-to: {error}") from None
    logger.info("proxy on http://%s:%d to %s", settings.host, traffic.proxy_port, upstream)
    # The upstream's own Server and Date headers go back to the client, not uvicorn's.
    return http_server(
        proxy, settings.host, traffic.proxy_port, server_header=False, date_header=False
    )
