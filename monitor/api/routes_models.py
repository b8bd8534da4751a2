"""``/api/v1/models``: the registered models and their versions (read scope)."""

from __future__ import annotations

from fastapi import APIRouter

from monitor.api.auth import READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import error_responses
from monitor.api.params import ModelName
from monitor.api.schemas import ModelList, ModelOut, VersionList, VersionOut
from monitor.api.services.catalog import model_summaries, model_versions

__all__ = ["models_router"]


def list_models(context: Context) -> ModelList:
    """Every registered model, by name."""
    return ModelList(items=[ModelOut.of(item) for item in model_summaries(context.sessions)])


def get_model(model: ModelName, context: Context) -> ModelOut:
    """One model."""
    return ModelOut.of(model_summaries(context.sessions, model)[0])


def list_versions(model: ModelName, context: Context) -> VersionList:
    """A model's versions, oldest first, with their feature schemas."""
    return VersionList(
        items=[VersionOut.of(item) for item in model_versions(context.sessions, model)]
    )


def models_router() -> APIRouter:
    """The models routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/models", tags=["models"], dependencies=[READ])
    router.add_api_route(
        "",
        list_models,
        methods=["GET"],
        summary="List models",
        response_model=ModelList,
        responses=error_responses(401, 403, 503),
    )
    router.add_api_route(
        "/{model}",
        get_model,
        methods=["GET"],
        summary="Get a model",
        response_model=ModelOut,
        responses=error_responses(401, 403, 404, 422, 503),
    )
    router.add_api_route(
        "/{model}/versions",
        list_versions,
        methods=["GET"],
        summary="List a model's versions",
        response_model=VersionList,
        responses=error_responses(401, 403, 404, 422, 503),
    )
    return router
