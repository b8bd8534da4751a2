"""Text drift (``detectors.multivariate.text``): vectors without downloads, descriptors,
verdicts with both tests, order invariance, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.errors import InvalidInputError
from detectors.multivariate import text

WORDS = [
    *("the", "a", "cat", "dog", "sat", "ran", "on", "mat", "big", "small", "red", "blue"),
    *("green", "slow", "fast", "old", "new"),
]
NEW_WORDS = ["invoice", "refund", "payment", "overdue"]


def documents(rng: np.random.Generator, n: int, words: list[str]) -> list[str]:
    return [" ".join(rng.choice(words, rng.integers(4, 12))) for _ in range(n)]


@pytest.fixture(scope="module")
def fitted() -> text.TextReference:
    return text.prepare(documents(np.random.default_rng(0), 400, WORDS), n_components=8)


def test_vectors_are_unit_length_and_deterministic(fitted: text.TextReference) -> None:
    docs = ["the cat sat on the mat", "a big red dog", ""]

    vectors = text.vectorize(docs, fitted)

    assert vectors.shape == (3, 8)
    assert np.linalg.norm(vectors[:2], axis=1) == pytest.approx([1.0, 1.0])
    assert not vectors[2].any()  # nothing to hash
    assert (text.vectorize(docs, fitted) == vectors).all()
    assert fitted.vectors.shape == (200, 8)  # the held-out half


def test_descriptors() -> None:
    # ", 4 2 !" are not letters; tokens hello, world, 42: two of three unknown
    values = text.describe(["Hello, world 42!", "   ", "new words"], frozenset({"hello", "new"}))

    np.testing.assert_allclose(
        values,
        [[16.0, 4 / 16, 2 / 3], [3.0, 0.0, np.nan], [9.0, 0.0, 0.5]],
    )


def test_same_vocabulary_is_no_drift(fitted: text.TextReference) -> None:
    current = documents(np.random.default_rng(1), 200, WORDS)

    result = text.test(fitted, current, n_permutations=100)

    assert result.method == "mmd"
    assert not result.drift
    assert result.n_reference == 200


@pytest.mark.parametrize("method", ["mmd", "domain_classifier"])
def test_new_vocabulary_is_drift_explained_by_oov(
    fitted: text.TextReference, method: text.Method
) -> None:
    current = documents(np.random.default_rng(2), 200, WORDS[:8] + NEW_WORDS)

    result = text.test(fitted, current, method=method, n_permutations=100)

    assert result.method == method
    assert result.drift
    first = result.features[0]
    assert first.name == "oov_share"
    assert first.reference == 0.0
    assert first.current is not None
    assert first.current > 0.2


def test_longer_documents_are_explained_by_length(fitted: text.TextReference) -> None:
    rng = np.random.default_rng(3)
    current = [" ".join(rng.choice(WORDS, 30)) for _ in range(200)]

    result = text.test(fitted, current, n_permutations=100)

    assert result.drift
    assert result.features[0].name == "length"


def test_document_order_does_not_change_the_result(fitted: text.TextReference) -> None:
    current = documents(np.random.default_rng(4), 150, WORDS[:10] + NEW_WORDS[:1])

    first = text.test(fitted, current, n_permutations=50)
    again = text.test(fitted, current[::-1], n_permutations=50)

    assert again.p_value == first.p_value
    assert again.statistic == pytest.approx(first.statistic, rel=1e-12)
    assert again.features == first.features


def test_unprepared_reference_and_small_samples() -> None:
    rng = np.random.default_rng(5)

    result = text.test(documents(rng, 6, WORDS), documents(rng, 3, WORDS), n_permutations=10)

    assert (result.n_reference, result.n_current) == (3, 3)
    assert 0 < result.p_value <= 1


def test_bad_inputs_are_named(fitted: text.TextReference) -> None:
    with pytest.raises(
        InvalidInputError, match=r"current: document 1 is not a string \(got float\)"
    ):
        text.test(fitted, ["fine", float("nan")])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="reference: expected at least 4 documents, got 2"):
        text.prepare(["a b", "c d"])
    with pytest.raises(InvalidInputError, match="method must be 'mmd' or 'domain_classifier'"):
        text.test(fitted, ["a", "b"], method="bert")  # type: ignore[arg-type]
