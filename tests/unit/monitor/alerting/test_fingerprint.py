"""Alert fingerprints and group keys, against Alertmanager's (prometheus/common) vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting.fingerprint import (
    ROOT_ROUTE,
    fingerprint,
    fingerprint_value,
    format_labels,
    group_key,
    group_labels,
)

LABELS = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, "cbf29ce484222325"),
        ({"name": "garland, briggs", "fear": "love is not enough"}, "507a62d79ee76c9a"),
    ],
)
def test_upstream_vectors(labels: dict[str, str], expected: str) -> None:
    assert fingerprint(labels) == expected


def test_upstream_vector_as_an_integer() -> None:
    labels = {"name": "garland, briggs", "fear": "love is not enough"}

    assert fingerprint_value(labels) == 5799056148416392346


def test_fnv1a_of_one_label_by_hand() -> None:
    # FNV-1a 64 over b"a\xffb\xff", computed step by step.
    value = 14695981039346656037
    for byte in b"a\xffb\xff":
        value = ((value ^ byte) * 1099511628211) % 2**64

    assert fingerprint({"a": "b"}) == f"{value:016x}"


def test_name_and_value_are_separated() -> None:
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


@given(LABELS)
def test_order_of_labels_does_not_matter(labels: dict[str, str]) -> None:
    reordered = dict(reversed(list(labels.items())))

    assert fingerprint(reordered) == fingerprint(labels)
    assert len(fingerprint(labels)) == 16
    assert int(fingerprint(labels), 16) == fingerprint_value(labels)


def test_label_sets_are_written_sorted_and_quoted() -> None:
    labels = {"severity": "critical", "alertname": 'a "b"\\c'}

    assert format_labels(labels) == '{alertname="a \\"b\\"\\\\c", severity="critical"}'


def test_group_key_names_the_route_and_group_labels() -> None:
    labels = {"alertname": "drift-high", "model": "churn", "severity": "warning"}

    assert group_key(ROOT_ROUTE, labels, ["alertname", "model"]) == (
        '{}:{alertname="drift-high", model="churn"}'
    )
    assert group_key(ROOT_ROUTE, labels, []) == "{}:{}"
    assert group_key('{}/{team="risk"}', labels, ["model"]) == '{}/{team="risk"}:{model="churn"}'


def test_group_by_every_label_and_missing_labels() -> None:
    labels = {"alertname": "a", "model": "m"}

    assert group_labels(labels, ["..."]) == labels
    assert group_labels(labels, ["model", "team"]) == {"model": "m"}
