"""The gRPC listener: a ``grpc.aio`` server on the REST app's event loop, on its own port.

Started and stopped by the app's lifespan (:func:`serving.server.create_server` wires it), so
both transports share one process, one loop, and one set of models, batchers and tap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc import aio

from serving.errors import ServingError
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.service import InferenceServicer

__all__ = ["SERVICE", "GrpcPortError", "GrpcServer"]

logger = logging.getLogger(__name__)

SERVICE = "inference.GRPCInferenceService"
"""The protocol's full service name: the path prefix of every RPC."""


class GrpcPortError(ServingError, OSError):
    """The gRPC port cannot be listened on (taken, or not an address of this machine)."""


class GrpcServer:
    """Serves :class:`InferenceServicer` on ``host:port`` once started.

    Parameters
    ----------
    servicer
        Answers the RPCs.
    host, port
        Where to listen.
    max_message_bytes
        Largest request message accepted (the REST body limit); larger ones end with
        RESOURCE_EXHAUSTED.
    grace_seconds
        On stop, how long calls in flight may take to finish before they are cancelled.
    reuse_port
        Share the port with other processes that also set ``SO_REUSEPORT`` (the worker
        processes of :mod:`serving.workers`); otherwise a taken port is an error.
    """

    def __init__(
        self,
        servicer: InferenceServicer,
        *,
        host: str,
        port: int,
        max_message_bytes: int,
        grace_seconds: float = 30.0,
        reuse_port: bool = False,
    ) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"gRPC port must be between 1 and 65535, got {port}")
        self._servicer = servicer
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._max_message_bytes = max_message_bytes
        self._grace = grace_seconds
        self._reuse_port = reuse_port
        self._server: aio.Server | None = None

    def bind(self) -> None:
        """Claim the port (before the models load, so that a taken port fails at once)."""
        self._bound()

    async def start(self) -> None:
        """Serve (on the running event loop), binding first if :meth:`bind` was not called."""
        await self._bound().start()
        logger.info("serving gRPC (%s) on %s", SERVICE, self.address)

    async def stop(self) -> None:
        """Stop taking calls; let those in flight finish within the grace period."""
        if self._server is not None:
            await self._server.stop(self._grace)
            self._server = None

    def _bound(self) -> aio.Server:
        if self._server is not None:
            return self._server
        server = aio.server(
            options=[
                ("grpc.max_receive_message_length", self._max_message_bytes),
                ("grpc.max_send_message_length", -1),
                # Unless workers share the port, a second server must not bind it silently.
                ("grpc.so_reuseport", int(self._reuse_port)),
            ]
        )
        server.add_generic_rpc_handlers((_handlers(self._servicer),))
        try:
            bound = server.add_insecure_port(self.address)
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise GrpcPortError(
                f"cannot listen for gRPC on {self.address}: the port is taken or the host is "
                "not an address of this machine"
            )
        self._server = server
        return server


def _handlers(servicer: InferenceServicer) -> grpc.GenericRpcHandler:
    methods: dict[str, tuple[Callable[..., Any], type[Message], type[Message]]] = {
        "ServerLive": (servicer.server_live, pb.ServerLiveRequest, pb.ServerLiveResponse),
        "ServerReady": (servicer.server_ready, pb.ServerReadyRequest, pb.ServerReadyResponse),
        "ServerMetadata": (
            servicer.server_metadata,
            pb.ServerMetadataRequest,
            pb.ServerMetadataResponse,
        ),
        "ModelReady": (servicer.model_ready, pb.ModelReadyRequest, pb.ModelReadyResponse),
        "ModelMetadata": (
            servicer.model_metadata,
            pb.ModelMetadataRequest,
            pb.ModelMetadataResponse,
        ),
        "ModelInfer": (servicer.model_infer, pb.ModelInferRequest, pb.ModelInferResponse),
    }
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            name: grpc.unary_unary_rpc_method_handler(
                behavior,
                request_deserializer=request.FromString,
                response_serializer=response.SerializeToString,
            )
            for name, (behavior, request, response) in methods.items()
        },
    )
