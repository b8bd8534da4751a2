"""The vocabulary of request outcomes, its input gate and the counts per outcome.

A record's status is one of four outcomes. The store keeps them as small integers (the
codes below equal ``storage.types.RecordStatus``; a unit test keeps the two in step); the
detectors also accept their names, so hand-written arrays read naturally.

=========  ====  =====================================================
name       code  meaning
=========  ====  =====================================================
ok         0     the model answered
error      1     the model or the server failed (5xx-like)
bad_input  2     the request was refused as malformed (4xx-like)
timeout    3     no answer within the deadline
=========  ====  =====================================================

A *failure kind* selects what counts as a failure: one outcome, or ``"failure"`` for any
outcome but ``ok``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError

__all__ = [
    "FAILURE_KINDS",
    "FailureKind",
    "RequestStatus",
    "StatusCounts",
    "as_status_codes",
    "check_kind",
    "count_statuses",
    "failure_mask",
]


class RequestStatus(enum.IntEnum):
    """Outcome of one request, as stored (``storage.types.RecordStatus``)."""

    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    TIMEOUT = 3


FailureKind = Literal["failure", "error", "timeout", "bad_input"]
FAILURE_KINDS: tuple[FailureKind, ...] = get_args(FailureKind)
_NAMES = {status.name.lower(): status.value for status in RequestStatus}
_KIND_CODES: dict[str, tuple[int, ...]] = {
    "failure": (RequestStatus.ERROR, RequestStatus.BAD_INPUT, RequestStatus.TIMEOUT),
    "error": (RequestStatus.ERROR,),
    "timeout": (RequestStatus.TIMEOUT,),
    "bad_input": (RequestStatus.BAD_INPUT,),
}


def check_kind(kind: object) -> FailureKind:
    """``kind`` if it is a failure kind, else :class:`InvalidInputError` listing them."""
    if kind not in FAILURE_KINDS:
        raise InvalidInputError(f"kind must be one of {list(FAILURE_KINDS)}, got {kind!r}")
    return kind


def as_status_codes(statuses: ArrayLike, name: str = "statuses") -> NDArray[np.int64]:
    """Status codes (0-3) of a 1-D array of codes or names (``"ok"``, ``"error"``, ...).

    Raises
    ------
    InvalidInputError
        If the array is not 1-D, holds floats, or holds a code or name outside the
        vocabulary (the message shows the first offender, its index and the vocabulary).

    Examples
    --------
    >>> as_status_codes(["ok", "timeout", "error"]).tolist()
    [0, 3, 1]
    """
    array = np.asarray(statuses)
    if array.ndim != 1:
        raise InvalidInputError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > max(RequestStatus):
            index = int(np.flatnonzero((array < 0) | (array > max(RequestStatus)))[0])
            msg = f"{name}: expected codes {_vocabulary()}, got {array[index]} at index {index}"
            raise InvalidInputError(msg)
        return array.astype(np.int64, copy=False)
    if array.dtype.kind in "UO":
        try:
            names, inverse = np.unique(array, return_inverse=True)
        except TypeError:  # an object array mixing names with other things
            msg = f"{name}: expected codes or names {_vocabulary()}, got mixed types"
            raise InvalidInputError(msg) from None
        unknown = [n for n in names.tolist() if n not in _NAMES]
        if unknown:
            index = int(np.flatnonzero(array == unknown[0])[0])
            msg = f"{name}: expected names {_vocabulary()}, got {unknown[0]!r} at index {index}"
            raise InvalidInputError(msg)
        codes = np.array([_NAMES[n] for n in names.tolist()], dtype=np.int64)
        return codes[inverse.reshape(-1)]
    msg = f"{name}: expected integer codes or names {_vocabulary()}, got dtype {array.dtype}"
    raise InvalidInputError(msg)


def _vocabulary() -> str:
    return ", ".join(f"{code}={label}" for label, code in _NAMES.items())


def failure_mask(codes: NDArray[np.int64], kind: FailureKind) -> NDArray[np.bool_]:
    """Which records are failures of ``kind`` (codes from :func:`as_status_codes`)."""
    selected = _KIND_CODES[check_kind(kind)]
    if len(selected) == 1:
        return np.asarray(codes == selected[0])
    return np.asarray(codes != RequestStatus.OK)


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many records of a window ended in each outcome.

    A baseline stored as aggregates (yesterday's counts) is a :class:`StatusCounts` too, so
    the rate detectors take either raw statuses or counts.
    """

    ok: int = 0
    error: int = 0
    bad_input: int = 0
    timeout: int = 0

    def __post_init__(self) -> None:
        for label in _NAMES:
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise InvalidInputError(
                    f"StatusCounts.{label} must be an integer >= 0, got {value!r}"
                )

    @property
    def total(self) -> int:
        """Records in the window."""
        return int(self.ok + self.error + self.bad_input + self.timeout)

    def failures(self, kind: FailureKind = "failure") -> int:
        """Records that failed in the way ``kind`` names."""
        if check_kind(kind) == "failure":
            return int(self.error + self.bad_input + self.timeout)
        return int(getattr(self, kind))


def count_statuses(statuses: ArrayLike | StatusCounts, name: str = "statuses") -> StatusCounts:
    """Counts per outcome of an array of statuses (counts are returned as they are).

    Examples
    --------
    >>> count_statuses([0, 0, 1, 3, 0, 1])
    StatusCounts(ok=3, error=2, bad_input=0, timeout=1)
    """
    if isinstance(statuses, StatusCounts):
        return statuses
    counts = np.bincount(as_status_codes(statuses, name), minlength=len(RequestStatus))
    return StatusCounts(*(int(c) for c in counts))
