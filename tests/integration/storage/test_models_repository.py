"""Tests of :mod:`storage.repositories.models` on SQLite and PostgreSQL: registering and
looking up models and their versions."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import create_session_factory
from storage.errors import InvalidBatchError, NotFoundError
from storage.models import Model, ModelVersion
from storage.repositories.models import ModelHandle, get_model_version, register_model
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

FEATURES = (
    FeatureSpec("age", FeatureKind.NUMERIC),
    FeatureSpec("city", FeatureKind.CATEGORICAL),
    FeatureSpec("vec", FeatureKind.EMBEDDING, dims=4),
)


def register(
    engine: Engine,
    name: str = "churn",
    *,
    task: Task | str = Task.BINARY_CLASSIFICATION,
    version: str = "v1",
    features: Sequence[FeatureSpec] = FEATURES,
    classes: Sequence[str] = ("stay", "leave"),
) -> ModelHandle:
    """Register in a session of its own and commit, as a process does on start."""
    with create_session_factory(engine)() as session:
        handle = register_model(
            session, name=name, task=task, version=version, features=features, classes=classes
        )
        session.commit()
    return handle


def lookup(engine: Engine, name: str, version: str | None = None) -> ModelHandle:
    with create_session_factory(engine)() as session:
        return get_model_version(session, name, version)


def row_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        models = connection.execute(sa.select(sa.func.count()).select_from(Model)).scalar_one()
        versions = connection.scalar(sa.select(sa.func.count()).select_from(ModelVersion))
    return int(models), int(versions or 0)


def test_register_returns_a_handle_of_what_was_declared(engine: Engine) -> None:
    handle = register(engine)

    assert handle.model_name == "churn"
    assert handle.task is Task.BINARY_CLASSIFICATION
    assert handle.classes == ("stay", "leave")
    assert handle.version == "v1"
    assert handle.schema == FeatureSchema(FEATURES)
    assert handle.class_index() == {"stay": 0, "leave": 1}
    assert row_counts(engine) == (1, 1)


def test_register_is_idempotent(engine: Engine) -> None:
    first = register(engine)
    # The same declaration, spelled with strings instead of enums.
    again = register(
        engine,
        task="binary_classification",
        features=[FeatureSpec("age", "numeric"), *FEATURES[1:]],  # type: ignore[arg-type]
    )

    assert again == first
    assert row_counts(engine) == (1, 1)


def test_a_new_version_joins_the_existing_model(engine: Engine) -> None:
    v1 = register(engine)
    v2 = register(engine, version="v2", features=FEATURES[:1])

    assert v2.model_id == v1.model_id
    assert v2.version_id != v1.version_id
    assert v2.schema == FeatureSchema(FEATURES[:1])
    assert row_counts(engine) == (1, 2)


#: Re-registrations of the model ``register`` creates that contradict it, and what the
#: error must say.
MODEL_CONFLICTS: list[tuple[dict[str, object], list[str]]] = [
    (
        {"task": Task.MULTICLASS_CLASSIFICATION, "classes": ("a", "b", "c")},
        ["'churn'", "binary_classification", "multiclass_classification"],
    ),
    ({"classes": ("leave", "stay")}, ["'churn'", "['stay', 'leave']", "['leave', 'stay']"]),
    ({"classes": ("yes", "no")}, ["'churn'", "['yes', 'no']"]),
    ({"task": Task.REGRESSION, "classes": ()}, ["'churn'", "regression"]),
]


def test_conflicting_model_registration_is_rejected(engine: Engine) -> None:
    register(engine)

    for changes, fragments in MODEL_CONFLICTS:
        with pytest.raises(InvalidBatchError) as caught:
            register(engine, **changes)  # type: ignore[arg-type]
        for fragment in fragments:
            assert fragment in str(caught.value), (changes, str(caught.value))

    assert lookup(engine, "churn") == lookup(engine, "churn", "v1")
    assert lookup(engine, "churn").classes == ("stay", "leave")
    assert row_counts(engine) == (1, 1)


def test_same_version_with_another_schema_is_rejected(engine: Engine) -> None:
    register(engine)
    other_schemas = {
        "fewer": FEATURES[:2],
        "reordered": (FEATURES[1], FEATURES[0], FEATURES[2]),
        "other-dims": (*FEATURES[:2], FeatureSpec("vec", FeatureKind.EMBEDDING, dims=8)),
        "other-kind": (FeatureSpec("age", FeatureKind.CATEGORICAL), *FEATURES[1:]),
    }

    for case, features in other_schemas.items():
        with pytest.raises(InvalidBatchError) as caught:
            register(engine, features=features)
        message = str(caught.value)
        assert "'churn' version 'v1'" in message, case
        assert "another feature schema" in message, case
        assert "new version" in message, case

    assert lookup(engine, "churn", "v1").schema == FeatureSchema(FEATURES)
    assert row_counts(engine) == (1, 1)


def test_get_model_version_returns_the_newest_by_default(engine: Engine) -> None:
    register(engine, version="v10")
    v9 = register(engine, version="v9", features=FEATURES[:1])
    register(engine, version="v10")  # re-registering an old version does not make it newest

    newest = lookup(engine, "churn")

    assert newest == v9


def test_get_model_version_by_label(engine: Engine) -> None:
    v1 = register(engine)
    register(engine, version="v2", features=FEATURES[:1])

    assert lookup(engine, "churn", "v1") == v1


def test_unknown_model_error_lists_known_models(engine: Engine) -> None:
    register(engine, "zeta")
    register(engine, "alpha")

    with pytest.raises(NotFoundError) as caught:
        lookup(engine, "beta")

    assert str(caught.value) == "unknown model 'beta'; registered models: alpha, zeta"
    assert isinstance(caught.value, LookupError)


def test_unknown_model_error_without_models_says_none(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="registered models: none"):
        lookup(engine, "churn")


def test_unknown_version_is_not_found(engine: Engine) -> None:
    register(engine)

    with pytest.raises(NotFoundError, match="model 'churn' has no version 'v7'"):
        lookup(engine, "churn", "v7")


def test_class_count_rules(engine: Engine) -> None:
    invalid: list[tuple[Task | str, tuple[str, ...], str]] = [
        (Task.REGRESSION, ("a",), "regression needs no classes, got ['a']"),
        (Task.BINARY_CLASSIFICATION, ("a",), "needs exactly 2 classes, got ['a']"),
        (Task.BINARY_CLASSIFICATION, ("a", "b", "c"), "needs exactly 2 classes"),
        (Task.BINARY_CLASSIFICATION, (), "needs exactly 2 classes, got []"),
        (Task.MULTICLASS_CLASSIFICATION, ("a", "b"), "needs at least 3 classes"),
        (Task.MULTICLASS_CLASSIFICATION, ("a", "b", "a"), "classes must be unique"),
        (Task.BINARY_CLASSIFICATION, ("a", "a"), "classes must be unique"),
        ("ranking", (), "task must be one of binary_classification, multiclass_classification"),
    ]
    for task, classes, fragment in invalid:
        with pytest.raises(InvalidBatchError) as caught:
            register(engine, task=task, classes=classes)
        assert fragment in str(caught.value), (task, classes, str(caught.value))

    assert row_counts(engine) == (0, 0)


def test_valid_class_counts_are_stored_in_order(engine: Engine) -> None:
    valid: list[tuple[Task, tuple[str, ...]]] = [
        (Task.REGRESSION, ()),
        (Task.BINARY_CLASSIFICATION, ("yes", "no")),
        (Task.MULTICLASS_CLASSIFICATION, ("c", "a", "b")),
        (Task.MULTICLASS_CLASSIFICATION, tuple(f"class-{i}" for i in range(40))),
    ]
    for i, (task, classes) in enumerate(valid):
        register(engine, f"model-{i}", task=task, classes=classes)

    for i, (task, classes) in enumerate(valid):
        handle = lookup(engine, f"model-{i}")
        assert handle.task is task
        assert handle.classes == classes
        assert handle.class_index() == {label: k for k, label in enumerate(classes)}


@pytest.mark.parametrize(
    ("name", "version"), [("m" * 64, "v1"), ("churn", "v" * 64)], ids=["name", "version"]
)
def test_names_longer_than_their_column_are_rejected_on_every_back_end(
    engine: Engine, name: str, version: str
) -> None:
    # models.name and model_versions.version are VARCHAR(63): SQLite would store a longer
    # value and PostgreSQL raise a driver error, so registration must check the length.
    with pytest.raises(InvalidBatchError, match="63"):
        register(engine, name, version=version)
