from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

import serving.runtimes
from serving.errors import RuntimeLoadError
from serving.runtimes import RUNTIME_KINDS, SklearnRuntime, load_runtime
from serving.runtimes.registry import _LOADERS
from tests.unit.serving.runtimes.conftest import Dataset

FILE_KINDS = [kind for kind in RUNTIME_KINDS if kind != "python"]
OPTIONAL = [("onnx", "onnxruntime"), ("xgboost", "xgboost"), ("lightgbm", "lightgbm")]


def test_every_kind_has_a_loader() -> None:
    assert set(_LOADERS) == set(RUNTIME_KINDS)
    assert RUNTIME_KINDS == ("sklearn", "python", "onnx", "xgboost", "lightgbm", "torchscript")


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("tensorflow", "models/m.pb")

    assert str(caught.value) == (
        "unknown runtime 'tensorflow' for model models/m.pb; expected one of: "
        "sklearn, python, onnx, xgboost, lightgbm, torchscript"
    )


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_missing_file(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "nope.bin"

    with pytest.raises(RuntimeLoadError, match=f"^{kind} model file {path} does not exist$"):
        load_runtime(kind, str(path), allow_pickle=True)


def test_directory_is_not_a_model_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeLoadError, match=f"^onnx model file {tmp_path} is not a file$"):
        load_runtime("onnx", str(tmp_path))


@pytest.mark.parametrize(("kind", "module"), OPTIONAL)
def test_missing_optional_package_names_the_extra(
    kind: str, module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, module, None)  # import of it now raises ImportError

    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime(kind, str(path))

    assert str(caught.value).startswith(
        f"the {kind} runtime needs {module}: pip install 'driftline[{kind}]' ("
    )


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("sklearn", {"threads": 1}, "the sklearn runtime has no option 'threads'; it takes: "),
        (
            "xgboost",
            {"nthread": 4, "zz": 1},
            "the xgboost runtime has no option 'nthread', 'zz'; it takes: num_threads$",
        ),
        ("lightgbm", {"num_threads": 0}, "option 'num_threads' of the lightgbm runtime must be"),
        ("onnx", {"roles": {"label": "y"}}, "option 'roles' of the onnx runtime must be a mapping"),
        ("onnx", {"roles": ["label"]}, "option 'roles' of the onnx runtime must be a mapping"),
    ],
)
def test_bad_options_fail_the_load(
    kind: str, options: dict[str, Any], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"")

    with pytest.raises(RuntimeLoadError, match=message):
        load_runtime(kind, str(path), options=options, allow_pickle=True)


def test_allow_pickle_reaches_the_sklearn_loader(iris: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    joblib.dump(LogisticRegression(max_iter=1000).fit(*iris), path)

    runtime = load_runtime("sklearn", str(path), allow_pickle=True, feature_names=list("abcd"))

    assert isinstance(runtime, SklearnRuntime)
    with pytest.raises(RuntimeLoadError, match="allow_pickle"):
        load_runtime("sklearn", str(path))


def test_importing_the_runtimes_imports_no_optional_or_heavy_package(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "import serving.runtimes\n"
        "heavy = {'onnxruntime', 'onnx', 'xgboost', 'lightgbm', 'torch', 'sklearn', 'pandas'}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_public_names_exist() -> None:
    assert all(hasattr(serving.runtimes, name) for name in serving.runtimes.__all__)
