"""Text drift: documents turned into vectors without any download, then a multivariate test.

Vectors: feature hashing (scikit-learn's ``HashingVectorizer``, no vocabulary to store) of
word 1–2-grams and of character 3–5-grams within word boundaries, each l2-normalised,
``alternate_sign=False``, 2¹⁵ buckets each, joined with weight 1/√2 each, then a seeded
``TruncatedSVD`` to ``n_components`` dimensions (latent semantic analysis) and l2-normalised
again (the SVD's components are 32 × 2¹⁶ floats, 17 MB: more buckets cost memory and
time, fewer merge more n-grams). The SVD is fitted on one half of the sampled reference;
the other half is what current is compared with, so both sides are vectors of documents
the SVD never saw (its own fitting documents would sit closer to its subspace and look
drifted).

Descriptors, for the explanation: length in characters, share of characters that are
neither letters nor white space, and share of word tokens (scikit-learn's default
``\\b\\w\\w+\\b``, lower-cased) missing from the vocabulary of the fitting half ("OOV").
Each is compared by the Kolmogorov–Smirnov D between the held-out half and current.

Documents are sampled by content (BLAKE2b digests, ordered with the seed by
:func:`detectors.multivariate._rows.ordered_keys`): the order of the documents never matters.
Cost: linear in the characters of at most ``max_documents`` reference and
``max_documents // 2`` current documents, plus the chosen test on those vectors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from detectors.errors import InvalidInputError
from detectors.multivariate import domain_classifier, mmd
from detectors.multivariate._params import check_count
from detectors.multivariate._rows import ordered_keys
from detectors.results import FeatureScore, MultivariateTest
from detectors.univariate import ks

__all__ = ["DESCRIPTORS", "TextReference", "describe", "prepare", "test", "vectorize"]

DESCRIPTORS = ("length", "non_letter_share", "oov_share")
Method = Literal["mmd", "domain_classifier"]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_LETTER_OR_SPACE = re.compile(r"[^\W\d_]|\s")


@dataclass(frozen=True, slots=True)
class TextReference:
    """The fitted projection, the fitting half's vocabulary and the held-out half."""

    svd: TruncatedSVD
    vocabulary: frozenset[str]
    #: Held-out reference documents as vectors ``(h, k)`` and descriptors ``(h, 3)``.
    vectors: NDArray[np.float64]
    descriptors: NDArray[np.float64]


def prepare(
    reference: Sequence[str],
    *,
    n_components: int = 32,
    max_documents: int = 4_000,
    seed: int = 0,
) -> TextReference:
    """Fit the vectoriser on half of at most ``max_documents`` reference documents (≥ 4)."""
    check_count("n_components", n_components, 1)
    check_count("max_documents", max_documents, 4)
    documents = _documents(reference, "reference", minimum=4)
    sample = [documents[i] for i in _sample(documents, seed, max_documents)]
    half = len(sample) // 2
    fitting, held = sample[:half], sample[half:]
    k = min(n_components, half - 1)
    svd = TruncatedSVD(n_components=k, random_state=seed).fit(_hashed(fitting))
    vocabulary = frozenset(t for d in fitting for t in _TOKEN.findall(d.lower()))
    prepared = TextReference(svd, vocabulary, np.empty((0, k)), np.empty((0, 3)))
    return TextReference(svd, vocabulary, vectorize(held, prepared), describe(held, vocabulary))


def vectorize(documents: Sequence[str], reference: TextReference) -> NDArray[np.float64]:
    """``(n, k)`` unit vectors of ``documents`` in the reference's SVD space (zeros if empty).

    Examples
    --------
    >>> fitted = prepare(["a cat sat", "the dog ran", "a cat ran", "the dog sat"] * 5)
    >>> vectorize(["a dog sat"], fitted).shape
    (1, 9)
    """
    projected = reference.svd.transform(_hashed(list(documents)))
    return np.asarray(normalize(projected), dtype=np.float64)


def describe(documents: Sequence[str], vocabulary: frozenset[str]) -> NDArray[np.float64]:
    """``(n, 3)`` descriptors: length, non-letter share, OOV share (NaN when undefined).

    Examples
    --------
    >>> describe(["Hello, world!!", ""], frozenset({"hello"})).round(3).tolist()
    [[14.0, 0.214, 0.5], [0.0, nan, nan]]
    """
    out = np.full((len(documents), 3), np.nan)
    for i, document in enumerate(documents):
        out[i, 0] = len(document)
        if document:
            out[i, 1] = 1.0 - len(_LETTER_OR_SPACE.findall(document)) / len(document)
        tokens = _TOKEN.findall(document.lower())
        if tokens:
            out[i, 2] = sum(token not in vocabulary for token in tokens) / len(tokens)
    return out


def test(
    reference: Sequence[str] | TextReference,
    current: Sequence[str],
    *,
    method: Method = "mmd",
    n_components: int = 32,
    max_documents: int = 4_000,
    alpha: float = 0.05,
    n_permutations: int = 500,
    seed: int = 0,
) -> MultivariateTest:
    """Text drift of ``current`` documents against ``reference`` documents.

    Parameters
    ----------
    reference
        Reference documents (strings; drop missing ones first), or :func:`prepare`'s result.
    current
        Current documents, at least 2.
    method
        ``"mmd"`` (default) or ``"domain_classifier"`` on the vectors.
    n_components, max_documents
        As in :func:`prepare`; current is sampled to ``max_documents // 2`` documents.
    alpha, n_permutations, seed
        Passed to the test (``n_permutations`` to MMD only).

    Returns
    -------
    MultivariateTest
        The chosen test's result on the vectors; ``features`` are the descriptors, scored
        by the KS D of their distributions, with their means on each side.

    Raises
    ------
    InvalidInputError
        A document is not a string, too few documents, bad parameters.

    Examples
    --------
    >>> words = "the a cat dog sat ran on mat big small red blue".split()
    >>> rng = np.random.default_rng(1)
    >>> make = lambda n, w: [" ".join(rng.choice(w, 8)) for _ in range(n)]
    >>> reference = prepare(make(400, words), n_components=8)
    >>> same = test(reference, make(200, words), n_permutations=100)
    >>> moved = test(reference, make(200, words[:6] + ["invoice", "refund"]), n_permutations=100)
    >>> same.drift, moved.drift, moved.features[0].name
    (False, True, 'oov_share')
    """
    if method not in ("mmd", "domain_classifier"):
        msg = f"method must be 'mmd' or 'domain_classifier', got {method!r}"
        raise InvalidInputError(msg)
    fitted = reference if isinstance(reference, TextReference) else prepare(
        reference, n_components=n_components, max_documents=max_documents, seed=seed
    )  # fmt: skip
    documents = _documents(current, "current", minimum=2)
    documents = [documents[i] for i in _sample(documents, seed, max(2, max_documents // 2))]
    vectors = vectorize(documents, fitted)
    if method == "mmd":
        result = mmd.test(
            fitted.vectors, vectors, n_permutations=n_permutations, alpha=alpha, seed=seed
        )
    else:
        result = domain_classifier.test(
            fitted.vectors, vectors, alpha=alpha, importance_rows=0, seed=seed
        )
    descriptors = describe(documents, fitted.vocabulary)
    shift = ks.test(fitted.descriptors, descriptors)
    features = [
        FeatureScore(name, float(shift.statistic[j]), _mean(fitted.descriptors[:, j]),
                     _mean(descriptors[:, j]))
        for j, name in enumerate(DESCRIPTORS)
    ]  # fmt: skip
    features.sort(key=lambda f: np.inf if np.isnan(f.score) else -f.score)
    return MultivariateTest(
        method=result.method,
        statistic=result.statistic,
        p_value=result.p_value,
        alpha=result.alpha,
        effect=result.effect,
        min_effect=result.min_effect,
        drift=result.drift,
        n_reference=result.n_reference,
        n_current=result.n_current,
        ci=result.ci,
        confidence=result.confidence,
        features=tuple(features),
    )


def _documents(values: Sequence[object], name: str, *, minimum: int) -> list[str]:
    documents: list[str] = []
    for i, document in enumerate(values):
        if not isinstance(document, str):
            msg = (
                f"{name}: document {i} is not a string (got {type(document).__name__}); "
                "drop missing values first"
            )
            raise InvalidInputError(msg)
        documents.append(document)
    if len(documents) < minimum:
        msg = f"{name}: expected at least {minimum} documents, got {len(documents)}"
        raise InvalidInputError(msg)
    return documents


def _sample(documents: list[str], seed: int, limit: int) -> NDArray[np.intp]:
    digests = b"".join(
        hashlib.blake2b(d.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        for d in documents
    )
    return ordered_keys(np.frombuffer(digests, dtype=np.uint64), seed, limit)


def _hashed(documents: list[str]) -> sparse.csr_matrix:
    hashers = (
        HashingVectorizer(ngram_range=(1, 2), n_features=2**15, alternate_sign=False),
        HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=2**15, alternate_sign=False
        ),
    )
    blocks = [hasher.transform(documents) for hasher in hashers]
    return sparse.hstack(blocks, format="csr") * np.sqrt(0.5)


def _mean(values: NDArray[np.float64]) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.mean()) if present.size else None
