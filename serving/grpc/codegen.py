"""Regenerating the Python modules of ``grpc_predict_v2.proto`` (``make grpc``).

Runs grpcio-tools' ``protoc`` (a development dependency), then adjusts its output in two ways:

* The messages are built in a descriptor pool of their own rather than protobuf's default
  pool. Every OIP server and client names its messages ``inference.*`` (the protocol's
  package), and the default pool refuses a second definition of a name: without this, the
  server could not share a process with ``tritonclient.grpc`` or MLServer's stubs.
* A header names the command that wrote the file and keeps ruff off it (and mypy off the
  untyped service module; the messages are typed by the generated ``.pyi``); ruff then
  formats the files with the project's settings.

Usage: ``python -m serving.grpc.codegen [OUTPUT_ROOT]`` (default: this checkout, in place).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["PROTO", "generate"]

ROOT = Path(__file__).resolve().parents[2]
PROTO = Path("serving/grpc/grpc_predict_v2.proto")
"""The interface file, relative to the checkout's root (its path is part of the code)."""

_HEADER = "# Generated from grpc_predict_v2.proto by `make grpc` (serving/grpc/codegen.py).\n"
_DEFAULT_POOL = "_descriptor_pool.Default()"
_OWN_POOL = "_descriptor_pool.DescriptorPool()"


def generate(output_root: Path = ROOT) -> list[Path]:
    """Write the ``_pb2.py``, ``_pb2.pyi`` and ``_pb2_grpc.py`` modules under ``output_root``.

    Returns
    -------
    The files written.

    Raises
    ------
    subprocess.CalledProcessError
        When ``protoc`` or ``ruff`` fails (their messages are on stderr).
    """
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT}",
            f"--python_out={output_root}",
            f"--pyi_out={output_root}",
            f"--grpc_python_out={output_root}",
            str(PROTO),
        ],
        cwd=ROOT,
        check=True,
    )
    stem = output_root / PROTO.with_suffix("")
    messages = stem.with_name(f"{stem.name}_pb2.py")
    stubs = messages.with_suffix(".pyi")
    service = stem.with_name(f"{stem.name}_pb2_grpc.py")
    _rewrite(messages, "# ruff: noqa\n", own_pool=True)
    _rewrite(stubs, '# ruff: noqa\n# mypy: disable-error-code="type-arg"\n')
    _rewrite(service, "# ruff: noqa\n# mypy: ignore-errors\n")
    files = [messages, stubs, service]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--quiet",
            "--config",
            str(ROOT / "pyproject.toml"),
            *map(str, files),
        ],
        check=True,
    )
    return files


def _rewrite(path: Path, directives: str, *, own_pool: bool = False) -> None:
    text = path.read_text(encoding="utf-8")
    if own_pool:
        if text.count(_DEFAULT_POOL) != 1:
            raise RuntimeError(f"{path}: expected one {_DEFAULT_POOL} in protoc's output")
        text = text.replace(_DEFAULT_POOL, _OWN_POOL)
    path.write_text(_HEADER + directives + text, encoding="utf-8")


if __name__ == "__main__":
    for written in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT):
        sys.stdout.write(f"wrote {written}\n")
