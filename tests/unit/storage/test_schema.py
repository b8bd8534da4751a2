"""Tests of :mod:`storage.schema`: feature declarations, the packed layout and its JSON form."""

from __future__ import annotations

import json

import pytest

from storage.errors import InvalidBatchError, StorageError
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import FeatureKind

#: Declared out of kind order on purpose: the packed layout regroups numeric then categorical.
MIXED = (
    FeatureSpec("colour", FeatureKind.CATEGORICAL),
    FeatureSpec("age", FeatureKind.NUMERIC),
    FeatureSpec("query_vec", FeatureKind.EMBEDDING, dims=3),
    FeatureSpec("comment", FeatureKind.TEXT),
    FeatureSpec("income", FeatureKind.NUMERIC),
    FeatureSpec("city", FeatureKind.CATEGORICAL),
    FeatureSpec("image_vec", FeatureKind.EMBEDDING, dims=2),
)


def test_spec_accepts_kind_as_string() -> None:
    spec = FeatureSpec("age", "numeric")  # type: ignore[arg-type]

    assert spec.kind is FeatureKind.NUMERIC


@pytest.mark.parametrize(
    ("name", "kind", "dims", "fragments"),
    [
        ("", "numeric", None, ["1-255 printable characters", "''"]),
        ("x" * 256, "numeric", None, ["1-255 printable characters"]),
        ("tab\there", "numeric", None, ["1-255 printable characters", "'tab\\there'"]),
        ("nul\x00", "numeric", None, ["1-255 printable characters"]),
        ("age", "number", None, ["'age'", "numeric, categorical, text, embedding", "'number'"]),
        ("vec", "embedding", None, ["'vec'", "dims between 1 and 65536", "None"]),
        ("vec", "embedding", 0, ["'vec'", "dims between 1 and 65536", "got 0"]),
        ("vec", "embedding", 65_537, ["'vec'", "got 65537"]),
        ("age", "numeric", 4, ["'age'", "dims is only for embeddings", "numeric"]),
        ("note", "text", 1, ["'note'", "dims is only for embeddings", "text"]),
    ],
)
def test_spec_rejects_bad_declarations_with_a_clear_message(
    name: str, kind: str, dims: int | None, fragments: list[str]
) -> None:
    with pytest.raises(InvalidBatchError) as caught:
        FeatureSpec(name, kind, dims)  # type: ignore[arg-type]

    for fragment in fragments:
        assert fragment in str(caught.value)


def test_spec_error_is_a_storage_error_and_a_value_error() -> None:
    with pytest.raises(StorageError):
        FeatureSpec("", FeatureKind.NUMERIC)
    with pytest.raises(ValueError, match="printable"):
        FeatureSpec("", FeatureKind.NUMERIC)


@pytest.mark.parametrize("dims", [1, 65_536])
def test_spec_accepts_embedding_dims_at_the_bounds(dims: int) -> None:
    assert FeatureSpec("vec", FeatureKind.EMBEDDING, dims=dims).dims == dims


def test_spec_rejects_a_name_ending_in_a_newline() -> None:
    # Control characters are refused anywhere in a name, so a trailing one must be too
    # (a regex anchored with '$' lets a single trailing newline through).
    with pytest.raises(InvalidBatchError, match="printable"):
        FeatureSpec("age\n", FeatureKind.NUMERIC)


def test_spec_rejects_fractional_embedding_dims() -> None:
    with pytest.raises(InvalidBatchError, match="dims"):
        FeatureSpec("vec", FeatureKind.EMBEDDING, dims=2.5)  # type: ignore[arg-type]


def test_schema_needs_a_feature() -> None:
    with pytest.raises(InvalidBatchError, match="at least one feature"):
        FeatureSchema(())


def test_schema_rejects_a_duplicate_name_naming_it() -> None:
    features = (FeatureSpec("age", FeatureKind.NUMERIC), FeatureSpec("age", FeatureKind.TEXT))

    with pytest.raises(InvalidBatchError, match="feature 'age' is declared twice"):
        FeatureSchema(features)


def test_packed_layout_puts_numeric_then_categorical_in_declaration_order() -> None:
    schema = FeatureSchema(MIXED)

    assert schema.numeric == ("age", "income")
    assert schema.categorical == ("colour", "city")
    assert schema.text == ("comment",)
    assert schema.embedding == ("query_vec", "image_vec")
    assert schema.packed_width == 4


def test_embedding_width_and_slices_follow_declaration_order() -> None:
    schema = FeatureSchema(MIXED)

    assert schema.embedding_width == 5
    assert schema.embedding_slices() == {"query_vec": slice(0, 3), "image_vec": slice(3, 5)}


def test_schema_without_embeddings_has_no_embedding_width() -> None:
    schema = FeatureSchema((FeatureSpec("age", FeatureKind.NUMERIC),))

    assert schema.embedding_width == 0
    assert schema.embedding_slices() == {}
    assert schema.packed_width == 1


def test_membership_is_by_name() -> None:
    schema = FeatureSchema(MIXED)

    assert "city" in schema
    assert "missing" not in schema


def test_to_json_is_the_declared_list() -> None:
    schema = FeatureSchema(MIXED[:3])

    assert schema.to_json() == [
        {"name": "colour", "kind": "categorical"},
        {"name": "age", "kind": "numeric"},
        {"name": "query_vec", "kind": "embedding", "dims": 3},
    ]


def test_json_round_trip_keeps_the_schema() -> None:
    schema = FeatureSchema(MIXED)

    restored = FeatureSchema.from_json(json.loads(json.dumps(schema.to_json())))

    assert restored == schema
    assert restored.features == MIXED
    assert restored.embedding_slices() == schema.embedding_slices()


def test_schemas_differing_in_order_are_different() -> None:
    assert FeatureSchema(MIXED) != FeatureSchema(tuple(reversed(MIXED)))


def test_from_json_validates_its_input() -> None:
    with pytest.raises(InvalidBatchError, match="kind must be one of"):
        FeatureSchema.from_json([{"name": "age", "kind": "float"}])


def test_check_names_accepts_declared_names() -> None:
    FeatureSchema(MIXED).check_names(["age", "city", "image_vec"], where="batch")


def test_check_names_lists_every_unknown_name_and_the_declared_ones() -> None:
    schema = FeatureSchema(MIXED[:2])

    with pytest.raises(InvalidBatchError) as caught:
        schema.check_names(["age", "height", "colour", "weight"], where="batch for model 'm'")

    assert str(caught.value) == (
        "batch for model 'm': unknown feature(s) 'height', 'weight'; declared: colour, age"
    )
