"""Drift of whole rows and of vectors: what no single column shows.

One module per method, each with ``prepare(reference)`` and ``test(reference, current)``
returning a :class:`~detectors.results.MultivariateTest`:

* :mod:`~detectors.multivariate.domain_classifier`: can a model tell the rows apart
  (ROC AUC, DeLong interval, Mann–Whitney p, permutation importances); NaN allowed.
* :mod:`~detectors.multivariate.pca`: PCA reconstruction error against a held-out half
  of the reference (Welch t); catches broken correlations.
* :mod:`~detectors.multivariate.mmd`: maximum mean discrepancy with an RBF kernel and a
  permutation p-value, for embeddings and other vectors.
* :mod:`~detectors.multivariate.text`: text turned into vectors without any download
  (feature hashing + truncated SVD), then MMD or the domain classifier, with descriptors.

Embedding columns are ``(n, d)`` float arrays: pass them to ``mmd.test`` or
``domain_classifier.test`` as they are. Importing this package imports scikit-learn.
"""

from __future__ import annotations

from detectors.multivariate import domain_classifier, mmd, pca, text
from detectors.results import FeatureScore, MultivariateTest

__all__ = ["FeatureScore", "MultivariateTest", "domain_classifier", "mmd", "pca", "text"]
