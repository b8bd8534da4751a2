"""Bogus model outputs: non-finite values, values outside the declared range, stuck outputs.

A request can succeed and still answer nonsense. Three checks over the outputs (predictions
or scores, float64, one per record):

- :func:`check_non_finite`: share of NaN / ±inf outputs;
- :func:`check_out_of_range`: share of finite outputs outside the declared ``[low, high]``
  (a probability outside [0, 1], a negative price);
- :func:`check_stuck_outputs`: the longest run of consecutive identical outputs over
  *different* inputs, a model that answers the same whatever it is asked.

Failed requests carry no output (NaN in the store): pass ``statuses`` and only ``ok``
records are checked. The share checks alarm when the share reaches ``max_share`` and warn on
any bogus output at all.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.failures._gate import check_same_length, integer, number, span_of
from detectors.failures.statuses import RequestStatus, as_status_codes
from detectors.outcome import DetectorResult, JSONValue, Span, Status, status_of

__all__ = ["check_non_finite", "check_out_of_range", "check_stuck_outputs"]


def _outputs(values: ArrayLike) -> NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("outputs: expected numbers, got malformed input") from None
    if array.ndim != 1:
        raise InvalidInputError(f"outputs: expected a 1-D array, got shape {array.shape}")
    return array


def _answered(
    array: NDArray[np.float64], statuses: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.intp] | None]:
    """The outputs of ``ok`` records and their row indices (None: every row)."""
    if statuses is None:
        return array, None
    codes = as_status_codes(statuses)
    check_same_length("statuses", codes, "outputs", array)
    rows = np.flatnonzero(codes == RequestStatus.OK)
    return array[rows], rows


def _share_result(
    name: str,
    bad: int,
    n: int,
    *,
    max_share: float,
    min_count: int,
    window: Span | None,
    details: dict[str, JSONValue],
) -> DetectorResult:
    threshold = number(max_share, "max_share", low=0.0, high=1.0, strict=True)
    minimum = integer(min_count, "min_count", low=1)
    details.update({"bogus": bad, "outputs": n})
    share = bad / n if n else math.nan
    if n < minimum:
        status = Status.INSUFFICIENT_DATA
    elif bad and share >= threshold:
        status = Status.ALARM
    else:
        status = Status.WARNING if bad else Status.OK
    return DetectorResult(name, status, share, threshold, span_of(window, n), details)


def check_non_finite(
    outputs: ArrayLike,
    *,
    statuses: ArrayLike | None = None,
    max_share: float = 0.001,
    min_count: int = 1,
    window: Span | None = None,
) -> DetectorResult:
    """Share of NaN and infinite outputs (of ``ok`` records when ``statuses`` is given).

    Returns
    -------
    DetectorResult
        ``failures.non_finite_outputs``: score = share, threshold = ``max_share``; details
        count NaN and infinities apart.

    Examples
    --------
    >>> result = check_non_finite([0.2, float("nan"), 0.7, float("nan")], statuses=[0, 1, 0, 0])
    >>> result.status.value, result.score, result.details["nan"]
    ('alarm', 0.3333333333333333, 1)
    """
    values, _ = _answered(_outputs(outputs), statuses)
    nan = int(np.isnan(values).sum())
    infinite = int(np.isinf(values).sum())
    details: dict[str, JSONValue] = {"nan": nan, "infinite": infinite}
    return _share_result(
        "failures.non_finite_outputs",
        nan + infinite,
        len(values),
        max_share=max_share,
        min_count=min_count,
        window=window,
        details=details,
    )


def check_out_of_range(
    outputs: ArrayLike,
    *,
    low: float,
    high: float,
    statuses: ArrayLike | None = None,
    max_share: float = 0.001,
    min_count: int = 1,
    window: Span | None = None,
) -> DetectorResult:
    """Share of finite outputs outside the declared range ``[low, high]`` (bounds included).

    Non-finite outputs are left to :func:`check_non_finite`; either bound may be infinite.

    Returns
    -------
    DetectorResult
        ``failures.out_of_range_outputs``: score = share of the finite outputs, threshold =
        ``max_share``; details count values below and above, and the extremes seen.

    Examples
    --------
    >>> result = check_out_of_range([0.1, 0.5, 1.2, -0.1, 0.9], low=0.0, high=1.0)
    >>> result.status.value, result.score, result.details["above"]
    ('alarm', 0.4, 1)
    """
    floor = number(low, "low", allow_infinite=True)
    ceiling = number(high, "high", allow_infinite=True)
    if not floor < ceiling:
        raise InvalidInputError(f"low must be below high, got low={low!r}, high={high!r}")
    values, _ = _answered(_outputs(outputs), statuses)
    finite = values[np.isfinite(values)]
    below = int((finite < floor).sum())
    above = int((finite > ceiling).sum())
    details: dict[str, JSONValue] = {
        "low": None if math.isinf(floor) else floor,
        "high": None if math.isinf(ceiling) else ceiling,
        "below": below,
        "above": above,
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
    }
    return _share_result(
        "failures.out_of_range_outputs",
        below + above,
        len(finite),
        max_share=max_share,
        min_count=min_count,
        window=window,
        details=details,
    )


def _fingerprints(values: ArrayLike) -> NDArray[np.uint64]:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        msg = (
            f"fingerprints: expected a 1-D array of integer hashes, got {array.dtype} {array.shape}"
        )
        raise InvalidInputError(msg)
    return array.astype(np.uint64, copy=False)


def check_stuck_outputs(
    outputs: ArrayLike,
    fingerprints: ArrayLike,
    *,
    statuses: ArrayLike | None = None,
    max_run: int = 100,
    warning_run: int = 25,
    window: Span | None = None,
) -> DetectorResult:
    """Longest run of identical consecutive outputs given to different inputs.

    Records are taken in the order given (time order, as the store hands them). Consecutive
    records with the same input fingerprint (a client retrying, a cache warm-up) collapse
    into one: an identical answer to an identical question is no evidence. The run length is
    then the number of consecutive distinct inputs that received exactly the same output
    (NaN never equals itself, so NaN breaks runs). Meant for continuous scores and
    regression outputs; class labels repeat legitimately.

    Parameters
    ----------
    outputs
        One float64 output per record.
    fingerprints
        One integer hash of each record's input (e.g. uint64 xxhash of the feature row).
    statuses
        When given, only ``ok`` records are considered.
    max_run, warning_run
        Run lengths giving an alarm and a warning (``warning_run <= max_run``).
    window
        Passed through to the result.

    Returns
    -------
    DetectorResult
        ``failures.stuck_outputs``: score = longest run, threshold = ``max_run``; details
        give the repeated value and the first and last row of the run (indices into the
        arrays passed in).

    Examples
    --------
    >>> outputs = [0.3, 0.71, 0.71, 0.71, 0.71, 0.2]
    >>> fingerprints = [11, 12, 12, 13, 14, 15]
    >>> result = check_stuck_outputs(outputs, fingerprints, max_run=3, warning_run=2)
    >>> result.status.value, result.score, result.details["first_row"]
    ('alarm', 3.0, 1)
    """
    longest = integer(max_run, "max_run", low=2)
    warn = integer(warning_run, "warning_run", low=1)
    if warn > longest:
        raise InvalidInputError(f"warning_run must be <= max_run, got {warn} > {longest}")
    hashes = _fingerprints(fingerprints)
    array = _outputs(outputs)
    check_same_length("fingerprints", hashes, "outputs", array)
    values, rows = _answered(array, statuses)
    if rows is not None:
        hashes = hashes[rows]
    span = span_of(window, len(values))
    if not len(values):
        return DetectorResult(
            "failures.stuck_outputs",
            Status.INSUFFICIENT_DATA,
            math.nan,
            float(longest),
            span,
            {"outputs": 0},
        )
    distinct = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
    answers = values[distinct]
    starts = np.flatnonzero(np.concatenate(([True], answers[1:] != answers[:-1])))
    lengths = np.diff(np.append(starts, len(answers)))
    best = int(np.argmax(lengths))
    run = int(lengths[best])
    first, last = distinct[starts[best]], distinct[starts[best] + run - 1]
    if rows is not None:
        first, last = rows[first], rows[last]
    details: dict[str, JSONValue] = {
        "value": float(answers[starts[best]]) if math.isfinite(answers[starts[best]]) else None,
        "first_row": int(first),
        "last_row": int(last),
        "distinct_inputs": len(answers),
        "outputs": len(values),
    }
    status = status_of(float(run), threshold=float(longest), warning=float(warn))
    return DetectorResult(
        "failures.stuck_outputs", status, float(run), float(longest), span, details
    )
