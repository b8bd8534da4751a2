from __future__ import annotations

import sys

import numpy as np
import pytest

from serving.errors import RuntimeLoadError
from serving.runtimes import TensorSpec, as_float_rows
from serving.runtimes.base import import_optional


def test_import_optional_returns_the_module() -> None:
    assert import_optional("json", runtime="test", extra="test") is sys.modules["json"]


def test_import_optional_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "driftline_fake_optional", None)

    with pytest.raises(RuntimeLoadError) as caught:
        import_optional("driftline_fake_optional", runtime="fake", extra="fakes")

    assert str(caught.value).startswith(
        "the fake runtime needs driftline_fake_optional: pip install 'driftline[fakes]' ("
    )
    assert isinstance(caught.value.__cause__, ImportError)


def test_tensor_spec_to_dict() -> None:
    spec = TensorSpec("p", "FP64", (-1, 3))

    assert spec.to_dict() == {"name": "p", "datatype": "FP64", "shape": [-1, 3]}


def test_as_float_rows() -> None:
    rows = as_float_rows(np.asfortranarray(np.ones((2, 3), dtype=np.int64)), np.float32)

    assert rows.dtype == np.float32
    assert rows.flags.c_contiguous
