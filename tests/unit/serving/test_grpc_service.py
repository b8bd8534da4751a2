"""The gRPC service in process: readiness of models not loaded, unusual requests and model
failures, through the generated stub (serving/grpc/grpc_predict_v2_pb2_grpc.py)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
import pytest
from numpy.typing import NDArray

from serving.config import ModelConfig
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.grpc_predict_v2_pb2_grpc import GRPCInferenceServiceStub
from serving.runtimes.base import Runtime, TensorSpec
from serving.server import Server, create_server
from tests.unit.serving.asgi import running

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Echo(Runtime):
    """Answers the first column; ``broken`` answers the wrong number of rows."""

    platform = "python_test"

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1,)),)

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        column = features[:, 0]
        return {"y": np.concatenate([column, column]) if self.broken else column}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model(name: str) -> ModelConfig:
    return ModelConfig(name=name, version="1", runtime="test", uri=name)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, GRPCInferenceServiceStub]]:
    port = free_port()
    server = create_server(
        [model("echo"), model("broken")],
        load_runtime=lambda config: Echo(broken=config.uri == "broken"),
        grpc_port=port,
        version="9.9",
    )
    async with running(server.app), grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield server, GRPCInferenceServiceStub(channel)


def infer_request(name: str, values: list[float]) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=name)
    tensor = request.inputs.add(name="x", datatype="FP64", shape=[len(values), 1])
    tensor.contents.fp64_contents.extend(values)
    return request


async def failure(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), caught.value.details() or ""


async def test_a_known_model_not_loaded_is_not_ready(
    served: tuple[Server, GRPCInferenceServiceStub],
) -> None:
    server, stub = served
    assert (await stub.ServerReady(pb.ServerReadyRequest())).ready
    server.repository.declare(model("ghost"))

    assert not (await stub.ServerReady(pb.ServerReadyRequest())).ready
    assert not (await stub.ModelReady(pb.ModelReadyRequest(name="ghost"))).ready
    assert (await stub.ModelReady(pb.ModelReadyRequest(name="echo", version="1"))).ready
    code, message = await failure(stub.ModelMetadata(pb.ModelMetadataRequest(name="ghost")))
    assert code is grpc.StatusCode.UNAVAILABLE
    assert message == "model 'ghost' is not ready (unavailable: not loaded)"
    code, _ = await failure(stub.ModelInfer(infer_request("ghost", [1.0])))
    assert code is grpc.StatusCode.UNAVAILABLE


async def test_server_metadata_and_liveness(
    served: tuple[Server, GRPCInferenceServiceStub],
) -> None:
    _, stub = served
    assert (await stub.ServerLive(pb.ServerLiveRequest())).live
    metadata = await stub.ServerMetadata(pb.ServerMetadataRequest())
    assert (metadata.name, metadata.version, list(metadata.extensions)) == ("driftline", "9.9", [])


async def test_a_request_without_a_model_name_is_invalid(
    served: tuple[Server, GRPCInferenceServiceStub],
) -> None:
    _, stub = served
    assert await failure(stub.ModelInfer(infer_request("", [1.0]))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "model_name: expected a model name",
    )
    code, message = await failure(stub.ModelReady(pb.ModelReadyRequest()))
    assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, "name: expected a model name")


async def test_a_model_answering_nonsense_is_internal(
    served: tuple[Server, GRPCInferenceServiceStub],
) -> None:
    _, stub = served
    code, message = await failure(stub.ModelInfer(infer_request("broken", [1.0, 2.0])))
    assert code is grpc.StatusCode.INTERNAL
    assert "not 2 rows" in message
    answer = await stub.ModelInfer(infer_request("echo", [1.0, 2.0]))
    assert list(answer.outputs[0].contents.fp64_contents) == [1.0, 2.0]


async def test_an_rpc_the_server_does_not_serve_is_unimplemented(
    served: tuple[Server, GRPCInferenceServiceStub],
) -> None:
    server, _ = served
    assert server.grpc is not None
    async with grpc.aio.insecure_channel(server.grpc.address) as channel:
        index = channel.unary_unary("/inference.GRPCInferenceService/RepositoryIndex")
        code, _ = await failure(index(b""))
    assert code is grpc.StatusCode.UNIMPLEMENTED


async def test_shutdown_stops_the_grpc_listener() -> None:
    port = free_port()
    server = create_server([model("echo")], load_runtime=lambda _: Echo(), grpc_port=port)
    async with running(server.app):
        pass
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        code, _ = await failure(
            GRPCInferenceServiceStub(channel).ServerLive(pb.ServerLiveRequest(), timeout=2)
        )
    assert code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


async def test_a_message_over_the_body_limit_is_resource_exhausted() -> None:
    port = free_port()
    server = create_server(
        [model("echo")], load_runtime=lambda _: Echo(), grpc_port=port, max_body_bytes=4096
    )
    async with running(server.app), grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = GRPCInferenceServiceStub(channel)
        assert (await stub.ModelInfer(infer_request("echo", [1.0] * 400))).outputs
        code, _ = await failure(stub.ModelInfer(infer_request("echo", [1.0] * 1000)))
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
