"""Tests of :mod:`storage.repositories.references` on SQLite and PostgreSQL.

The store treats a reference as opaque bytes, so these tests store arbitrary bytes; what
the bytes hold is the business of ``tests/integration/monitor/test_references.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import ConflictError, NotFoundError, create_session_factory, register_model
from storage.models import ModelVersion, ReferenceDataset
from storage.repositories.references import (
    ReferenceInfo,
    delete_reference,
    get_reference,
    list_references,
    load_reference_data,
    reference_digest,
    save_reference,
)
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task, utc_now

pytestmark = pytest.mark.integration

FEATURES = (FeatureSpec("age", FeatureKind.NUMERIC),)
DATA = b"PAR1 not really parquet, the store does not look PAR1"


def register(engine: Engine, name: str = "churn", version: str = "v1") -> None:
    with create_session_factory(engine).begin() as session:
        register_model(
            session,
            name=name,
            task=Task.REGRESSION,
            version=version,
            features=FEATURES,
        )


def save(
    engine: Engine,
    name: str = "training",
    data: bytes = DATA,
    *,
    version: str | None = None,
    replace: bool = False,
) -> ReferenceInfo:
    return save_reference(
        engine,
        model_name="churn",
        name=name,
        data=data,
        row_count=3,
        version=version,
        replace=replace,
    )


def test_save_then_read_back(engine: Engine) -> None:
    register(engine)
    before = utc_now()

    saved = save(engine)

    assert saved.model_name == "churn"
    assert saved.name == "training"
    assert saved.version == "v1"
    assert saved.row_count == 3
    assert saved.sha256 == hashlib.sha256(DATA).hexdigest()
    assert saved.size_bytes == len(DATA)
    assert saved.created_at.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= saved.created_at <= utc_now()
    assert get_reference(engine, "churn", "training") == saved
    assert list_references(engine, "churn") == [saved]
    info, data = load_reference_data(engine, "churn", "training")
    assert (info, data) == (saved, DATA)
    digest = reference_digest(engine, "churn", "training")
    assert (digest.reference_id, digest.sha256) == (saved.id, saved.sha256)


def test_list_is_by_name_and_per_model(engine: Engine) -> None:
    register(engine)
    register(engine, "other")
    save(engine, "zeta")
    save(engine, "alpha")
    save_reference(engine, model_name="other", name="training", data=b"x", row_count=1)

    assert [r.name for r in list_references(engine, "churn")] == ["alpha", "zeta"]
    assert [r.name for r in list_references(engine, "other")] == ["training"]


def test_the_newest_version_by_default_or_the_one_named(engine: Engine) -> None:
    register(engine, version="v1")
    register(engine, version="v2")

    assert save(engine, "newest").version == "v2"
    assert save(engine, "older", version="v1").version == "v1"


def test_a_name_taken_is_a_conflict_unless_replaced(engine: Engine) -> None:
    register(engine)
    first = save(engine)

    with pytest.raises(ConflictError) as caught:
        save(engine, data=b"other bytes")
    message = str(caught.value)
    assert "model 'churn' already has a reference dataset 'training'" in message
    assert f"3 rows, sha256 {first.sha256[:12]}" in message
    assert "save again with replace" in message
    assert load_reference_data(engine, "churn", "training")[1] == DATA

    replaced = save(engine, data=b"other bytes", replace=True)

    assert replaced.id == first.id
    assert replaced.sha256 == hashlib.sha256(b"other bytes").hexdigest()
    assert replaced.created_at >= first.created_at
    assert load_reference_data(engine, "churn", "training")[1] == b"other bytes"
    assert len(list_references(engine, "churn")) == 1


def test_replace_creates_when_absent(engine: Engine) -> None:
    register(engine)

    assert save(engine, replace=True).name == "training"


def test_delete(engine: Engine) -> None:
    register(engine)
    save(engine)
    save(engine, "holdout")

    delete_reference(engine, "churn", "training")

    assert [r.name for r in list_references(engine, "churn")] == ["holdout"]
    with pytest.raises(NotFoundError, match=r"'training'; its reference datasets: holdout$"):
        delete_reference(engine, "churn", "training")


def test_unknown_names_say_what_exists(engine: Engine) -> None:
    register(engine)
    register(engine, "fraud")
    save(engine, "alpha")
    save(engine, "beta")

    with pytest.raises(NotFoundError) as model:
        get_reference(engine, "ghost", "alpha")
    with pytest.raises(NotFoundError) as reference:
        load_reference_data(engine, "churn", "gamma")
    with pytest.raises(NotFoundError) as version:
        save(engine, version="v9")
    with pytest.raises(NotFoundError) as none:
        get_reference(engine, "fraud", "alpha")
    with pytest.raises(NotFoundError) as digest:
        reference_digest(engine, "churn", "gamma")

    assert str(model.value) == "unknown model 'ghost'; registered models: churn, fraud"
    assert str(reference.value) == (
        "model 'churn' has no reference dataset 'gamma'; its reference datasets: alpha, beta"
    )
    assert str(version.value) == "model 'churn' has no version 'v9'; its versions: v1"
    assert str(none.value).endswith("its reference datasets: none")
    assert str(digest.value) == str(reference.value)
    with pytest.raises(NotFoundError, match="unknown model 'ghost'"):
        list_references(engine, "ghost")
    with pytest.raises(NotFoundError, match="unknown model 'ghost'"):
        save_reference(engine, model_name="ghost", name="x", data=b"x", row_count=1)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": ""}, "reference name must be 1-127 characters"),
        ({"name": "a/b"}, "got 'a/b'"),
        ({"name": "x" * 128}, "reference name must be"),
        ({"name": "-x"}, "starting with a letter or digit"),
        ({"data": b""}, "data must be non-empty bytes"),
        ({"row_count": -1}, "row_count must be an integer >= 0, got -1"),
    ],
)
def test_malformed_arguments(engine: Engine, options: dict[str, object], expected: str) -> None:
    register(engine)
    arguments: dict[str, object] = {"name": "training", "data": DATA, "row_count": 3, **options}

    with pytest.raises(ValueError, match=expected):
        save_reference(engine, model_name="churn", **arguments)  # type: ignore[arg-type]
    assert list_references(engine, "churn") == []


def test_a_deleted_version_leaves_the_reference_without_one(engine: Engine) -> None:
    register(engine, version="v1")
    register(engine, version="v2")
    save(engine, version="v1")

    with create_session_factory(engine).begin() as session:
        session.execute(sa.delete(ModelVersion).where(ModelVersion.version == "v1"))

    assert get_reference(engine, "churn", "training").version is None


def test_deleting_the_model_deletes_its_references(engine: Engine) -> None:
    register(engine)
    save(engine)

    with create_session_factory(engine).begin() as session:
        session.execute(sa.text("DELETE FROM models"))

    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(ReferenceDataset))
    assert count == 0
