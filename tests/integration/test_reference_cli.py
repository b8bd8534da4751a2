"""Tests of ``driftline reference upload | list | delete``, run as a real process.

Mistakes the commands refuse with one line run in this process (``driftline_in_process``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from rich.filesize import decimal
from sqlalchemy.engine import Engine

from storage import create_engine, create_session_factory, register_model
from storage.repositories.references import ReferenceInfo, list_references, load_reference_data
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task
from tests.integration.test_cli import (
    Run,
    assert_ok,
    assert_user_error,
    driftline,
    driftline_in_process,
    listed_commands,
)

pytestmark = pytest.mark.integration

#: Keep the INFO lines of opening the database off stderr, so error output is exactly one line.
QUIET = {"DRIFTLINE_LOG_LEVEL": "WARNING"}
FEATURES = (
    FeatureSpec("age", FeatureKind.NUMERIC),
    FeatureSpec("city", FeatureKind.CATEGORICAL),
)


def reference(cwd: Path, url: str, *args: str) -> Run:
    return driftline(cwd, "--database-url", url, "reference", *args, env=QUIET)


def refused(cwd: Path, url: str, *args: str) -> str:
    """The one error line of a ``reference`` command run in this process."""
    run = driftline_in_process(cwd, "--database-url", url, "reference", *args, env=QUIET)
    return assert_user_error(run)


def register(engine: Engine, version: str = "v1") -> None:
    with create_session_factory(engine).begin() as session:
        register_model(
            session,
            name="churn",
            task=Task.BINARY_CLASSIFICATION,
            version=version,
            features=FEATURES,
            classes=("stay", "leave"),
        )


def stored(url: str) -> list[ReferenceInfo]:
    engine = create_engine(url)
    try:
        return list_references(engine, "churn")
    finally:
        engine.dispose()


def write(path: Path, **columns: list[object]) -> Path:
    frame = pd.DataFrame(
        {"age": [30, 41, 52], "city": ["Oslo", "Lima", "Oslo"], "id": [1, 2, 3], **columns}
    )
    frame.to_csv(path, index=False)
    return path


def test_help_lists_the_reference_commands(tmp_path: Path) -> None:
    top = driftline_in_process(tmp_path, "--help")
    sub = driftline_in_process(tmp_path, "reference", "--help")

    assert_ok(top)
    assert "reference" in listed_commands(top.stdout), top.transcript
    assert_ok(sub)
    assert listed_commands(sub.stdout) == {"upload", "list", "delete"}, sub.transcript


def test_upload_list_replace_delete(tmp_path: Path, database_url: str, engine: Engine) -> None:
    register(engine)
    train = write(tmp_path / "train.csv", target=["stay", "leave", "stay"])

    uploaded = reference(tmp_path, database_url, "upload", "churn", str(train))

    assert_ok(uploaded)
    [info] = stored(database_url)
    lines = uploaded.stdout.splitlines()
    assert lines[0] == (
        f"stored reference dataset 'training' of model 'churn' (version v1): 3 rows, "
        f"sha256 {info.sha256[:12]}, {decimal(info.size_bytes)}"
    ), uploaded.transcript
    assert lines[1] == "found: every feature, labels (column 'target'), no predictions"
    assert lines[2] == "ignored columns: 'id'"
    assert uploaded.stderr == "", uploaded.transcript  # no progress bar off a terminal
    data = load_reference_data(engine, "churn", "training")[1]
    assert hashlib.sha256(data).hexdigest() == info.sha256

    again = refused(tmp_path, database_url, "upload", "churn", str(train))
    assert again == (
        f"error: model 'churn' already has a reference dataset 'training' (3 rows, sha256 "
        f"{info.sha256[:12]}, uploaded {info.created_at:%Y-%m-%d %H:%M} UTC): add --replace "
        "to overwrite it, or choose another --name"
    )

    plain = write(tmp_path / "plain.csv", prediction=["leave", "leave", "stay"])
    replaced = reference(tmp_path, database_url, "upload", "churn", str(plain), "--replace")
    assert_ok(replaced)
    assert "found: every feature, no labels, predictions" in replaced.stdout, replaced.transcript
    holdout = reference(
        tmp_path,
        database_url,
        "upload",
        "churn",
        str(train),
        "--name",
        "holdout",
        "--version",
        "v1",
    )
    assert_ok(holdout)
    infos = stored(database_url)
    assert [i.name for i in infos] == ["holdout", "training"]
    assert infos[1].sha256 != info.sha256

    listed = reference(tmp_path, database_url, "list", "churn")
    assert_ok(listed)
    for item in infos:
        row = next(line for line in listed.stdout.splitlines() if f" {item.name} " in line)
        for cell in ("v1", "3", f"{item.sha256[:12]}…", f"{item.created_at:%Y-%m-%d %H:%M}"):
            assert cell in row, listed.transcript

    deleted = reference(tmp_path, database_url, "delete", "churn", "holdout")
    assert_ok(deleted)
    assert deleted.stdout.strip() == "deleted reference dataset 'holdout' of model 'churn'"
    assert [i.name for i in stored(database_url)] == ["training"]
    gone = refused(tmp_path, database_url, "delete", "churn", "holdout")
    assert gone == (
        "error: model 'churn' has no reference dataset 'holdout'; its reference datasets: training"
    )


def test_list_of_no_references(tmp_path: Path, database_url: str, engine: Engine) -> None:
    register(engine)

    run = reference(tmp_path, database_url, "list", "churn")

    assert_ok(run)
    assert run.stdout.strip() == (
        "model 'churn' has no reference datasets; upload one with "
        "'driftline reference upload churn FILE'"
    )


@pytest.mark.parametrize(
    ("args", "columns", "expected"),
    [
        (("ghost",), {}, "error: unknown model 'ghost'; registered models: churn"),
        (("churn", "--version", "v9"), {}, "error: model 'churn' has no version 'v9'"),
        (("churn", "--name", "a b"), {}, "error: reference name must be 1-127 characters"),
        (
            ("churn",),
            {"target": ["stay", "maybe", "leave"]},
            "holds unknown class label(s) 'maybe'",
        ),
        (("churn",), {"age": ["1", "x", "2"]}, "column 'age' is not numeric: found 'x'"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    args: tuple[str, ...],
    columns: dict[str, list[object]],
    expected: str,
) -> None:
    register(engine)
    path = write(tmp_path / "train.csv", **columns)

    line = refused(tmp_path, database_url, "upload", args[0], str(path), *args[1:])

    assert expected in line
    assert stored(database_url) == []


def test_a_missing_file_is_one_line(tmp_path: Path, database_url: str, engine: Engine) -> None:
    register(engine)

    line = refused(tmp_path, database_url, "upload", "churn", "nope.parquet")

    assert line == "error: nope.parquet: file not found"
