"""``driftline learning status | freeze | unfreeze | rollback``: a learning model's controls.

The commands talk to the serving process that learns (``driftline serve``), through its
admin routes ``/v2/repository/models/{model}/learning[/...]``, with the admin token when
``DRIFTLINE_ADMIN_TOKEN`` is set.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from monitor.errors import ConfigError

__all__ = ["learning_app"]

learning_app = typer.Typer(
    help="Freeze, unfreeze or roll back a model that learns online.", no_args_is_help=True
)

_URL = typer.Option(help="Server URL (default: http://DRIFTLINE_HOST:DRIFTLINE_PORT).")
_NAME = typer.Argument(help="Model name.")
_REASON = typer.Option(help="Why, recorded with the event.")


@learning_app.command("status")
def status(
    ctx: typer.Context, name: Annotated[str, _NAME], url: Annotated[str | None, _URL] = None
) -> None:
    """Show whether the model learns, which snapshot serves, and the prequential metric."""
    _show(_call(ctx, url, "GET", name, None, {}))


@learning_app.command("freeze")
def freeze(
    ctx: typer.Context,
    name: Annotated[str, _NAME],
    reason: Annotated[str, _REASON] = "manual",
    url: Annotated[str | None, _URL] = None,
) -> None:
    """Stop learning; the served version stays."""
    _show(_call(ctx, url, "POST", name, "freeze", {"reason": reason}))


@learning_app.command("unfreeze")
def unfreeze(
    ctx: typer.Context,
    name: Annotated[str, _NAME],
    reason: Annotated[str, _REASON] = "manual",
    url: Annotated[str | None, _URL] = None,
) -> None:
    """Resume learning from where it stopped."""
    _show(_call(ctx, url, "POST", name, "unfreeze", {"reason": reason}))


@learning_app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: Annotated[str, _NAME],
    to: Annotated[
        str | None, typer.Option(help="Snapshot version (default: the newest good one).")
    ] = None,
    reason: Annotated[str, _REASON] = "manual",
    url: Annotated[str | None, _URL] = None,
) -> None:
    """Restore a snapshot for learning and serving, and freeze learning."""
    parameters: dict[str, Any] = {"reason": reason}
    if to is not None:
        parameters["version"] = to
    _show(_call(ctx, url, "POST", name, "rollback", parameters))


def _show(document: dict[str, Any]) -> None:
    console = Console()
    state = "frozen" if document.get("frozen") else "learning"
    metric = document.get("prequential")
    shown = "n/a" if metric is None else f"{metric:.4f}"
    console.print(
        f"{document.get('model')}: {state}, serving {document.get('serving')}, "
        f"{document.get('examples_learnt')} examples learnt, "
        f"prequential {document.get('metric')} {shown}",
        markup=False,
    )


def _call(
    ctx: typer.Context,
    url: str | None,
    method: str,
    name: str,
    action: str | None,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    import httpx

    from monitor.cli import user_errors

    with user_errors():
        settings = ctx.obj.settings()
        base = url or f"http://{settings.host}:{settings.port}"
        path = f"/v2/repository/models/{name}/learning" + (f"/{action}" if action else "")
        headers = {}
        if settings.admin_token is not None:
            headers["Authorization"] = f"Bearer {settings.admin_token.get_secret_value()}"
        try:
            if method == "GET":
                response = httpx.get(base + path, headers=headers, timeout=60)
            else:
                body = {"parameters": parameters}
                response = httpx.post(base + path, json=body, headers=headers, timeout=300)
        except httpx.HTTPError as error:
            raise ConfigError(f"cannot reach the server at {base}: {error}") from None
        try:
            document = response.json()
        except ValueError:
            document = {"error": response.text[:200]}
        if response.status_code != 200:
            raise ConfigError(f"{base}{path}: {response.status_code} {document.get('error')}")
        return dict(document)
