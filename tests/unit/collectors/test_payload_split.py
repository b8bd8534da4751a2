"""Cutting a spooled batch into messages that fit NATS' max_payload, and reading its model."""

from __future__ import annotations

import pytest

from collectors.errors import PayloadError
from collectors.payload import concatenate, decode, encode, model_of, split
from tests.unit.collectors.test_payload import assert_same, batch


def test_model_of_reads_the_header() -> None:
    assert model_of(encode(batch(3, model="credit-risk"))) == "credit-risk"


def test_model_of_rejects_what_is_not_a_batch() -> None:
    with pytest.raises(PayloadError, match="malformed record batch"):
        model_of(b"not a batch")


def test_a_payload_that_fits_is_kept_as_it_is() -> None:
    payload = encode(batch(10))
    assert split(payload, len(payload)) == [payload]


def test_a_large_payload_is_cut_between_records_in_order() -> None:
    original = batch(101)
    payload = encode(original)
    pieces = split(payload, len(payload) // 5)
    assert len(pieces) >= 5
    assert all(len(piece) <= len(payload) // 5 for piece in pieces)
    assert_same(concatenate([decode(piece) for piece in pieces]), original)


def test_the_cut_is_the_same_on_a_replay() -> None:
    payload = encode(batch(64))
    assert split(payload, 2000) == split(bytes(payload), 2000)


def test_one_record_larger_than_the_limit_is_an_error() -> None:
    payload = encode(batch(1))
    with pytest.raises(PayloadError, match="one record takes"):
        split(payload, len(payload) - 1)
