"""TorchScript runtime. torch is not a dev dependency: most tests skip without it."""

from __future__ import annotations

import importlib
import importlib.util
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from serving.errors import ModelOutputError, PredictionError, RuntimeLoadError
from serving.runtimes import TensorSpec, load_runtime
from tests.unit.serving.runtimes.conftest import Dataset

HAS_TORCH = importlib.util.find_spec("torch") is not None

# Modules scripted from a real source file: TorchScript reads the source of what it compiles.
MODULES = """
from typing import Dict, Tuple

import torch


class Heads(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        score = x.sum(dim=1)
        return {"score": score, "label": (score > 10.0).to(torch.int64)}


class Pair(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x.sum(dim=1), x.max(dim=1).values
"""


@pytest.mark.skipif(HAS_TORCH, reason="torch is installed")
def test_missing_torch_names_the_extra(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"")

    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("torchscript", str(path))

    assert str(caught.value).startswith(
        "the torchscript runtime needs torch: pip install 'driftline[torch]' (No module named"
    )


def test_bad_dtype_option_fails_before_loading(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"")

    with pytest.raises(
        RuntimeLoadError,
        match="option 'dtype' of the torchscript runtime must be one of float32, float64",
    ):
        load_runtime("torchscript", str(path), options={"dtype": "int8"})


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.fixture
def scripted(torch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The module of :data:`MODULES`, imported from a file."""
    name = f"torch_modules_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(MODULES)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


def save(torch: Any, module: Any, path: Path) -> str:
    torch.jit.save(torch.jit.script(module), str(path))
    return str(path)


def test_linear_module_predicts_as_torch(torch: Any, iris: Dataset, tmp_path: Path) -> None:
    features, _ = iris
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 3).eval()
    runtime = load_runtime("torchscript", save(torch, linear, tmp_path / "linear.pt"))

    answer = runtime.predict(features, ("predict",))
    with torch.inference_mode():
        expected = linear(torch.from_numpy(features.astype(np.float32))).numpy()

    assert runtime.platform == "pytorch_torchscript"
    assert runtime.outputs == (TensorSpec("predict", "FP32", (-1, -1)),)
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_allclose(answer["predict"], expected, rtol=1e-6)


def test_dict_outputs_by_declared_name(torch: Any, scripted: Any, tmp_path: Path) -> None:
    options = {
        "outputs": [{"name": "label", "datatype": "INT64"}, {"name": "score", "datatype": "FP32"}],
        "roles": {"prediction": "label", "score": "score"},
    }
    runtime = load_runtime(
        "torchscript", save(torch, scripted.Heads(), tmp_path / "heads.pt"), options=options
    )

    answer = runtime.predict(np.array([[1.0, 2.0], [8.0, 9.0]]), ("score", "label"))

    np.testing.assert_array_equal(answer["score"], np.array([3.0, 17.0], dtype=np.float32))
    np.testing.assert_array_equal(answer["label"], [0, 1])
    assert dict(runtime.roles) == {"prediction": "label", "score": "score"}


def test_tuple_outputs_by_position(torch: Any, scripted: Any, tmp_path: Path) -> None:
    options = {
        "outputs": [{"name": "total", "datatype": "FP32"}, {"name": "top", "datatype": "FP32"}]
    }
    runtime = load_runtime(
        "torchscript", save(torch, scripted.Pair(), tmp_path / "pair.pt"), options=options
    )

    answer = runtime.predict(np.array([[1.0, 5.0, 2.0]]), ("top", "total"))

    np.testing.assert_array_equal(answer["top"], [5.0])
    np.testing.assert_array_equal(answer["total"], [8.0])


def test_answer_missing_a_declared_output(torch: Any, scripted: Any, tmp_path: Path) -> None:
    options = {"outputs": [{"name": "probabilities", "datatype": "FP32"}]}
    runtime = load_runtime(
        "torchscript", save(torch, scripted.Heads(), tmp_path / "heads.pt"), options=options
    )

    with pytest.raises(ModelOutputError, match="returned no 'probabilities'"):
        runtime.predict(np.ones((1, 2)), ("probabilities",))


def test_wrong_width_is_a_prediction_error(torch: Any, tmp_path: Path) -> None:
    runtime = load_runtime("torchscript", save(torch, torch.nn.Linear(4, 1), tmp_path / "l.pt"))

    with pytest.raises(PredictionError, match=r"torchscript model .*l\.pt: "):
        runtime.predict(np.ones((2, 3)), ("predict",))


def test_unreadable_file(torch: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a zip archive")

    with pytest.raises(RuntimeLoadError, match=r"cannot load torchscript model .*bad\.pt: "):
        load_runtime("torchscript", str(path))
