"""``driftline serve`` and ``driftline models deploy | list | undeploy``.

The ``models`` commands talk to a running server through the model repository API
(``/v2/repository/...``), the same routes Triton's and MLServer's clients use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from monitor.errors import ConfigError

__all__ = ["models_app", "serve", "sidecar"]

models_app = typer.Typer(
    help="Deploy, list and undeploy models on a running server.", no_args_is_help=True
)

_URL = typer.Option(help="Server URL (default: http://DRIFTLINE_HOST:DRIFTLINE_PORT).")


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default DRIFTLINE_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DRIFTLINE_PORT).")] = None,
    grpc_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Also serve the protocol over gRPC on this port (default DRIFTLINE_GRPC_PORT).",
        ),
    ] = None,
    allow_pickle: Annotated[
        bool, typer.Option(help="Let API callers deploy pickled model files (runs their code).")
    ] = False,
    record: Annotated[
        bool, typer.Option(help="Record every prediction into the store for monitoring.")
    ] = True,
    tap_to: Annotated[
        str | None,
        typer.Option(help="Push the tap to this sidecar URL instead (default DRIFTLINE_TAP_URL)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes sharing the ports (default DRIFTLINE_SERVE_WORKERS, else "
            "the project file's serving.workers, else 1).",
        ),
    ] = None,
    grace_period: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            max=3600,
            help="Seconds in-flight requests may take to finish on SIGTERM / Ctrl-C "
            "(default DRIFTLINE_SERVE_GRACE_SECONDS, else serving.grace_period_seconds, "
            "else 30).",
        ),
    ] = None,
) -> None:
    """Serve the project's models over the Open Inference Protocol v2 (REST, and gRPC)."""
    from monitor.cli import user_errors
    from monitor.project import load_project
    from monitor.serving_setup import model_configs, run_server

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "grpc_port": grpc_port,
        "tap_url": tap_to,
        "serve_workers": workers,
        "serve_grace_seconds": grace_period,
    }
    if allow_pickle:
        overrides["serve_allow_pickle"] = True
    with user_errors():
        settings = ctx.obj.settings(**{k: v for k, v in overrides.items() if v is not None})
        path = settings.resolved_project_file()
        project = load_project(path) if path is not None else None
        configs = model_configs(project, Path(path).parent) if project and path else []
        run_server(settings, configs, project, record=record)


def sidecar(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of the ingest and feedback APIs.")] = 8001,
    proxy_to: Annotated[
        str | None,
        typer.Option(help="Model server URL to serve a recording reverse proxy in front of."),
    ] = None,
    proxy_port: Annotated[int, typer.Option(help="Port of the reverse proxy.")] = 8002,
    proxy_timeout: Annotated[
        float, typer.Option(help="Seconds the model server may stay silent (then 504).")
    ] = 60.0,
    proxy_route: Annotated[
        list[str] | None,
        typer.Option(help="PATH=MODEL: also record POSTs on PATH as MODEL (repeatable)."),
    ] = None,
    model_name: Annotated[
        list[str] | None,
        typer.Option(help="NAME=MODEL: server or logger model name to Driftline model."),
    ] = None,
    payload: Annotated[
        list[str] | None,
        typer.Option(
            help="MODEL:features=PATH,prediction=PATH[,probabilities=..,request_id=..]: "
            "dotted JSON paths of a model's payloads; for OIP v2, output names."
        ),
    ] = None,
    cloudevents_auth: Annotated[
        bool,
        typer.Option(help="Require an ingest token on the CloudEvents routes (KServe sends none)."),
    ] = True,
    cloudevents_ttl: Annotated[
        float, typer.Option(help="Seconds a logged request waits for its response event.")
    ] = 30.0,
) -> None:
    """Run the collector sidecar: ingest, feedback and CloudEvents APIs, optional proxy."""
    from monitor.cli import user_errors
    from monitor.project import load_project
    from monitor.sidecar_setup import TrafficOptions, parse_pairs, parse_payloads, run_sidecar

    with user_errors():
        if proxy_timeout <= 0 or cloudevents_ttl <= 0:
            raise ConfigError("--proxy-timeout and --cloudevents-ttl must be positive")
        traffic = TrafficOptions(
            proxy_to=proxy_to,
            proxy_port=proxy_port,
            proxy_timeout_seconds=proxy_timeout,
            proxy_routes=parse_pairs(proxy_route or [], "--proxy-route"),
            model_names=parse_pairs(model_name or [], "--model-name"),
            payloads=parse_payloads(payload or []),
            cloudevents_auth=cloudevents_auth,
            cloudevents_ttl_seconds=cloudevents_ttl,
        )
        settings = ctx.obj.settings()
        path = settings.resolved_project_file()
        project = load_project(path) if path is not None else None
        run_sidecar(settings, project, port=port, traffic=traffic)


@models_app.command("deploy")
def deploy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    runtime: Annotated[
        str | None, typer.Option(help="sklearn, python, onnx, xgboost, lightgbm or torchscript.")
    ] = None,
    uri: Annotated[
        str | None, typer.Option(help="Model file as the server sees it, or module:attr.")
    ] = None,
    version: Annotated[str | None, typer.Option(help="Version label.")] = None,
    allow_pickle: Annotated[bool, typer.Option(help="Trust a joblib/pickle file.")] = False,
    url: Annotated[str | None, _URL] = None,
) -> None:
    """Load a model (or a new version of it) and make it the default; in-flight requests finish."""
    parameters: dict[str, Any] = {
        key: value
        for key, value in {"runtime": runtime, "uri": uri, "version": version}.items()
        if value is not None
    }
    if uri is not None and runtime != "python" and Path(uri).exists():
        parameters["uri"] = str(Path(uri).resolve())
    if allow_pickle:
        parameters["allow_pickle"] = True
    _call(ctx, url, f"/v2/repository/models/{name}/load", {"parameters": parameters})
    Console().print(f"deployed {name}" + (f" version {version}" if version else ""), markup=False)


@models_app.command("undeploy")
def undeploy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Option(help="Only this version.")] = None,
    url: Annotated[str | None, _URL] = None,
) -> None:
    """Stop serving a model after its queued requests are answered."""
    body = {"parameters": {"version": version}} if version else {}
    _call(ctx, url, f"/v2/repository/models/{name}/unload", body)
    Console().print(f"undeployed {name}", markup=False)


@models_app.command("list")
def list_models(ctx: typer.Context, url: Annotated[str | None, _URL] = None) -> None:
    """List the server's models, versions and states."""
    rows = _call(ctx, url, "/v2/repository/index", {})
    table = Table()
    for column in ("name", "version", "state", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row.get("version", ""), row["state"], row.get("reason", ""))
    Console().print(table)


def _call(ctx: typer.Context, url: str | None, path: str, body: dict[str, Any]) -> Any:
    import httpx

    from monitor.cli import user_errors

    with user_errors():
        settings = ctx.obj.settings()
        base = url or f"http://{settings.host}:{settings.port}"
        headers = {}
        if settings.admin_token is not None:
            headers["Authorization"] = f"Bearer {settings.admin_token.get_secret_value()}"
        try:
            response = httpx.post(base + path, json=body, headers=headers, timeout=300)
        except httpx.HTTPError as error:
            raise ConfigError(f"cannot reach the server at {base}: {error}") from None
        if response.status_code != 200:
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            raise ConfigError(f"{base}{path}: {response.status_code} {message}")
        return response.json() if response.content else None
