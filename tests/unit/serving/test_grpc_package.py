"""The gRPC package itself: generated code in step with the .proto, wire-compatible with
Triton's client, loadable beside it, imported only when asked for; errors mapped to codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor

from serving.admin import AdminAccessError
from serving.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelNotReadyError,
    ModelOutputError,
    PredictionError,
    QueueFullError,
    ServingError,
)
from serving.grpc import codegen
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.server import SERVICE
from serving.grpc.status import status_code

REPO = Path(__file__).resolve().parents[3]
GENERATED = ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2.pyi", "grpc_predict_v2_pb2_grpc.py")


def _without_json_names(file: descriptor_pb2.FileDescriptorProto) -> None:
    def strip(message: descriptor_pb2.DescriptorProto) -> None:
        for field in message.field:
            field.ClearField("json_name")
        for nested in message.nested_type:
            strip(nested)

    for message in file.message_type:
        strip(message)


def test_the_committed_messages_are_compiled_from_the_proto(tmp_path: Path) -> None:
    descriptors = tmp_path / "set.bin"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{REPO}",
            f"--descriptor_set_out={descriptors}",
            str(codegen.PROTO),
        ],
        cwd=REPO,
        check=True,
    )
    (compiled,) = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes()).file
    committed = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    _without_json_names(compiled)

    assert committed == compiled, "serving/grpc: run `make grpc` after editing the .proto"


def _normalised(text: str) -> str:
    """Generated code without the generators' version stamps."""
    text = re.sub(r"\d+\.\d+\.\d+", "X.Y.Z", text)
    return re.sub(r"\n\s+\d+,\n\s+\d+,\n\s+\d+,\n", "\n", text)


def test_make_grpc_writes_the_committed_files(tmp_path: Path) -> None:
    written = codegen.generate(tmp_path)

    assert sorted(path.name for path in written) == sorted(GENERATED)
    for path in written:
        committed = (REPO / "serving" / "grpc" / path.name).read_text(encoding="utf-8")
        assert _normalised(path.read_text(encoding="utf-8")) == _normalised(committed), path.name


def _fields(message: Descriptor) -> dict[str, tuple[int, int, bool]]:
    return {field.name: (field.number, field.type, field.is_repeated) for field in message.fields}


def _messages(message: Descriptor) -> list[Descriptor]:
    return [message, *(m for nested in message.nested_types for m in _messages(nested))]


def test_every_message_matches_tritons_on_the_wire() -> None:
    """Our messages are a subset of Triton's, field for field (number, type, repetition)."""
    from tritonclient.grpc import service_pb2 as triton

    ours = [m for top in pb.DESCRIPTOR.message_types_by_name.values() for m in _messages(top)]
    theirs = {
        m.full_name: m
        for top in triton.DESCRIPTOR.message_types_by_name.values()
        for m in _messages(top)
    }
    assert len(ours) >= 20
    for message in ours:
        assert message.full_name in theirs, message.full_name
        mine, triton_fields = _fields(message), _fields(theirs[message.full_name])
        assert {name: triton_fields.get(name) for name in mine} == mine, message.full_name


def test_the_service_and_its_rpcs_are_named_as_the_protocol_says() -> None:
    service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    assert service.full_name == SERVICE == "inference.GRPCInferenceService"
    assert [method.name for method in service.methods] == [
        "ServerLive",
        "ServerReady",
        "ModelReady",
        "ServerMetadata",
        "ModelMetadata",
        "ModelInfer",
    ]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "imports",
    [
        "import tritonclient.grpc; import serving.grpc.grpc_predict_v2_pb2_grpc",
        "import serving.grpc.grpc_predict_v2_pb2_grpc; import tritonclient.grpc",
    ],
)
def test_our_messages_load_beside_another_inference_package(imports: str) -> None:
    """Both define ``inference.*`` messages; ours live in a descriptor pool of their own."""
    completed = _run(imports)
    assert completed.returncode == 0, completed.stderr


def test_the_rest_server_does_not_import_grpc() -> None:
    completed = _run(
        "import sys\n"
        "import monitor.serving_setup, serving.server\n"
        "serving.server.create_server([])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('grpc', 'google')))\n"
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_a_grpc_port_brings_the_grpc_server() -> None:
    completed = _run(
        "import sys, serving.server\n"
        "server = serving.server.create_server([], grpc_port=50051)\n"
        "print(type(server.grpc).__name__, 'grpc' in sys.modules)\n"
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["GrpcServer", "True"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidRequestError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (PredictionError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (ModelNotFoundError("x"), grpc.StatusCode.NOT_FOUND),
        (ModelNotReadyError("x"), grpc.StatusCode.UNAVAILABLE),
        (QueueFullError("x"), grpc.StatusCode.UNAVAILABLE),
        (DeadlineExceededError("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (AdminAccessError("x"), grpc.StatusCode.PERMISSION_DENIED),
        (ModelOutputError("x"), grpc.StatusCode.INTERNAL),
        (ServingError("x"), grpc.StatusCode.INTERNAL),
    ],
)
def test_each_error_has_its_status_code(error: ServingError, code: grpc.StatusCode) -> None:
    assert status_code(error) is code
