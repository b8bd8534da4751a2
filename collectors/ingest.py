"""The ingest and feedback bodies: records and labels checked against the model, one by one.

``POST /v1/models/{model}/predictions``::

    {"version": "3",                      # optional: the newest registered version
     "records": [{"request_id": "r-1",    # required, unique per model (replays skipped: (*))
                  "timestamp": 1767225600.5,     # optional: epoch seconds or ISO 8601 (UTC)
                  "features": {"age": 41, "country": "fr"},
                  "prediction": "yes",           # class label, or a number for regression
                  "probabilities": [0.2, 0.8],   # optional, in the model's class order
                  "latency_seconds": 0.012,      # optional
                  "status": "ok",                # ok | error | bad_input | timeout
                  "error": null}]}               # optional message of a failed request

``POST /v1/models/{model}/feedback``::

    {"labels": [{"request_id": "r-1", "label": "no", "timestamp": ...}]}

Class labels may be sent as the label or as its index in the model's classes (an integer,
when no class is spelled like that integer).

(*) A record sent again is stored once. On PostgreSQL, where the records table is partitioned
by time, "again" means the same request id *and* the same timestamp: a client retrying a
batch must send the timestamps it sent the first time (a record without one is stamped
with its arrival time, which differs on a retry). Spool and stream replays carry the stamp
they got at first acceptance, so they are always stored once.

A record that does not fit the model is not dropped: it is stored as a ``bad_input`` failure
with its reason (so it counts toward failure rates), and the problem is reported to the
sender with the record's index, request id and field.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from collectors.payload import ModelBatch
from storage import FeatureKind, FeatureSpec, ModelHandle, PredictionBatch, RecordStatus

__all__ = [
    "IngestError",
    "LabelBatch",
    "Problem",
    "class_label",
    "parse_feedback",
    "parse_records",
]

_RECORD_KEYS = frozenset(
    {"request_id", "timestamp", "features", "prediction", "probabilities", "latency_seconds",
     "status", "error"}
)  # fmt: skip
_STATUS = {s.name.lower(): s for s in RecordStatus}
_MAX_ID = 255


class IngestError(ValueError):
    """The body as a whole is unusable (not JSON, no records, unknown model version)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one record or label was refused."""

    index: int
    request_id: str | None
    field: str
    message: str

    def describe(self) -> str:
        who = f"records[{self.index}]" + (f" ({self.request_id!r})" if self.request_id else "")
        return f"{who}.{self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "request_id": self.request_id,
            "field": self.field,
            "error": self.message,
        }


@dataclass(slots=True)
class _Columns:
    ids: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    features: dict[str, list[Any]] = field(default_factory=dict)
    predictions: list[Any] = field(default_factory=list)
    probabilities: list[list[float] | None] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    error_types: list[str | None] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)


def read_json(body: bytes, key: str) -> tuple[dict[str, Any], list[Any]]:
    """The body's object and its non-empty list under ``key``."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise IngestError(f"body: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise IngestError(f'body: expected an object with "{key}"')
    items = document.get(key)
    if not isinstance(items, list) or not items:
        raise IngestError(f"{key}: expected a non-empty list")
    return document, items


def requested_version(document: Mapping[str, Any]) -> str | None:
    version = document.get("version")
    if version is not None and not isinstance(version, str):
        raise IngestError("version: expected a string")
    return version


def parse_records(
    records: list[Any], model: ModelHandle, *, now: float | None = None
) -> tuple[ModelBatch, list[Problem]]:
    """Every record as a stored record: good ones as sent, bad ones as ``bad_input`` failures."""
    clock = time.time() if now is None else now
    columns = _Columns(features={spec.name: [] for spec in model.schema.features})
    problems: list[Problem] = []
    for index, raw in enumerate(records):
        problem = _add(columns, index, raw, model, clock)
        if problem is not None:
            problems.append(problem)
            _add_failure(columns, index, raw, model, clock, problem)
    return ModelBatch(model.model_name, model.version, _batch(columns, model)), problems


def _add(
    columns: _Columns, index: int, raw: object, model: ModelHandle, now: float
) -> Problem | None:
    if not isinstance(raw, dict):
        return Problem(index, None, "*", "expected an object")
    request_id = raw.get("request_id")
    if not isinstance(request_id, str) or not request_id or len(request_id) > _MAX_ID:
        return Problem(index, None, "request_id", f"expected a string of 1-{_MAX_ID} characters")
    problem = _check_record(index, request_id, raw, model)
    if problem is not None:
        return problem
    status = _STATUS[raw.get("status", "ok")]
    columns.ids.append(request_id)
    columns.times.append(_timestamp(raw.get("timestamp"), now))
    features = raw.get("features") or {}
    for spec in model.schema.features:
        columns.features[spec.name].append(_feature_value(features.get(spec.name), spec))
    columns.predictions.append(raw.get("prediction"))
    columns.probabilities.append(raw.get("probabilities"))
    columns.latency.append(_float(raw.get("latency_seconds")))
    columns.status.append(int(status))
    columns.error_types.append(None if status is RecordStatus.OK else status.name.lower())
    columns.errors.append(raw.get("error"))
    return None


def _check_record(
    index: int, request_id: str, raw: dict[str, Any], model: ModelHandle
) -> Problem | None:
    def problem(where: str, message: str) -> Problem:
        return Problem(index, request_id, where, message)

    unknown = sorted(set(raw) - _RECORD_KEYS)
    if unknown:
        return problem(unknown[0], f"unknown field; fields: {', '.join(sorted(_RECORD_KEYS))}")
    try:
        _timestamp(raw.get("timestamp"), 0.0)
    except ValueError as error:
        return problem("timestamp", str(error))
    features = raw.get("features", {})
    if not isinstance(features, dict):
        return problem("features", "expected an object of feature values")
    declared = {spec.name: spec for spec in model.schema.features}
    for name, value in features.items():
        spec = declared.get(name)
        if spec is None:
            return problem(
                f"features.{name}",
                f"not a feature of {model.model_name!r}; features: {', '.join(declared)}",
            )
        message = _feature_problem(value, spec.kind, spec.dims)
        if message:
            return problem(f"features.{name}", message)
    status = raw.get("status", "ok")
    if status not in _STATUS:
        return problem("status", f"expected one of {', '.join(_STATUS)}, got {status!r}")
    return _outcome_problem(raw, model, problem, ok=status == "ok")


def _outcome_problem(
    raw: dict[str, Any], model: ModelHandle, problem: Callable[[str, str], Problem], *, ok: bool
) -> Problem | None:
    prediction = raw.get("prediction")
    if prediction is None and ok:
        return problem("prediction", "required for a record with status ok")
    if prediction is not None:
        if model.classes:
            label = class_label(prediction, model.classes)
            if label is None:
                return problem(
                    "prediction",
                    f"unknown class {prediction!r}; classes: {', '.join(model.classes)}",
                )
            raw["prediction"] = label
        elif not _is_number(prediction):
            return problem("prediction", f"expected a number, got {prediction!r}")
    probabilities = raw.get("probabilities")
    if probabilities is not None:
        k = len(model.classes)
        if (
            not k
            or not isinstance(probabilities, list)
            or len(probabilities) != k
            or not all(_is_number(p) for p in probabilities)
        ):
            wanted = f"a list of {k} numbers (one per class)" if k else "nothing (regression model)"
            return problem("probabilities", f"expected {wanted}")
    latency = raw.get("latency_seconds")
    if latency is not None and (not _is_number(latency) or latency < 0):
        return problem("latency_seconds", "expected a non-negative number")
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        return problem("error", "expected a string")
    return None


def _add_failure(
    columns: _Columns, index: int, raw: object, model: ModelHandle, now: float, problem: Problem
) -> None:
    request_id = problem.request_id or f"invalid-{int(now * 1e6)}-{index}"
    columns.ids.append(request_id)
    columns.times.append(int(now * 1e6))
    for spec in model.schema.features:
        columns.features[spec.name].append(_missing(spec))
    columns.predictions.append(None)
    columns.probabilities.append(None)
    columns.latency.append(math.nan)
    columns.status.append(int(RecordStatus.BAD_INPUT))
    columns.error_types.append("invalid_record")
    columns.errors.append(problem.describe())


def _batch(columns: _Columns, model: ModelHandle) -> PredictionBatch:
    n = len(columns.ids)
    features: dict[str, Any] = {}
    for spec in model.schema.features:
        values = columns.features[spec.name]
        if spec.kind is FeatureKind.NUMERIC:
            features[spec.name] = np.array(values, dtype=np.float64)
        elif spec.kind is FeatureKind.EMBEDDING:
            features[spec.name] = np.array(values, dtype=np.float32).reshape(n, spec.dims or 0)
        else:
            features[spec.name] = values
    probabilities = None
    if model.classes and any(p is not None for p in columns.probabilities):
        probabilities = np.array(
            [
                p if p is not None else [math.nan] * len(model.classes)
                for p in columns.probabilities
            ],
            dtype=np.float64,
        )
    predictions: Any = columns.predictions
    if not model.classes:
        predictions = np.array(
            [math.nan if p is None else p for p in predictions], dtype=np.float64
        )
    return PredictionBatch(
        request_ids=columns.ids,
        timestamps_us=np.array(columns.times, dtype=np.int64),
        features=features,
        predictions=predictions,
        probabilities=probabilities,
        latency_seconds=np.array(columns.latency, dtype=np.float64),
        status=np.array(columns.status, dtype=np.int16),
        error_types=columns.error_types,
        error_messages=columns.errors,
    )


def _feature_problem(value: object, kind: FeatureKind, dims: int | None) -> str | None:
    if value is None:
        return None
    if kind is FeatureKind.NUMERIC:
        return None if _is_number(value) else f"numeric feature, got {value!r}"
    if kind is FeatureKind.EMBEDDING:
        ok = isinstance(value, list) and len(value) == dims and all(_is_number(v) for v in value)
        return None if ok else f"expected a list of {dims} numbers"
    if isinstance(value, str):
        return None if "\x00" not in value else "text may not contain NUL characters"
    if kind is FeatureKind.CATEGORICAL and _is_number(value):
        return None
    return f"{kind.value} feature, got {type(value).__name__}"


def _feature_value(value: object, spec: FeatureSpec) -> object:
    kind = spec.kind
    if value is None:
        return _missing(spec)
    if kind is FeatureKind.CATEGORICAL and not isinstance(value, str):
        number = float(value)  # type: ignore[arg-type]
        return str(int(number)) if number.is_integer() else str(number)
    return value


def _missing(spec: FeatureSpec) -> object:
    """The stored form of a missing value: NaN, NaN vectors for embeddings, else None."""
    if spec.kind is FeatureKind.NUMERIC:
        return math.nan
    if spec.kind is FeatureKind.EMBEDDING:
        return [math.nan] * (spec.dims or 0)
    return None


def _timestamp(value: object, now: float) -> int:
    if value is None:
        return int(now * 1e6)
    if _is_number(value):
        seconds = float(value)  # type: ignore[arg-type]
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected epoch seconds or ISO 8601, got {value!r}") from None
        if parsed.tzinfo is None:
            raise ValueError(f"ISO 8601 timestamps need a timezone, got {value!r}")
        seconds = parsed.timestamp()
    else:
        raise ValueError(f"expected epoch seconds or ISO 8601, got {value!r}")
    if not 0 <= seconds < 1e11:
        raise ValueError(f"out of range: {value!r}")
    return round(seconds * 1e6)


def class_label(value: object, classes: tuple[str, ...]) -> str | None:
    """The class ``value`` names: a class label, or an integer index into ``classes``
    (when no class is spelled like that integer); None when it names none."""
    if isinstance(value, str):
        return value if value in classes else None
    if isinstance(value, int) and not isinstance(value, bool):
        if str(value) in classes:
            return str(value)
        return classes[value] if 0 <= value < len(classes) else None
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _float(value: object) -> float:
    return float(value) if _is_number(value) else math.nan  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LabelBatch:
    """Labels that passed their checks."""

    request_ids: list[str]
    values: list[Any]
    timestamps_us: list[int | None]


def parse_feedback(labels: list[Any], model: ModelHandle) -> tuple[LabelBatch, list[Problem]]:
    """Good labels, and the problems of the others (nothing is stored for those)."""
    good = LabelBatch([], [], [])
    problems: list[Problem] = []
    for index, raw in enumerate(labels):
        if not isinstance(raw, dict):
            problems.append(Problem(index, None, "*", "expected an object"))
            continue
        request_id = raw.get("request_id")
        if not isinstance(request_id, str) or not request_id or len(request_id) > _MAX_ID:
            problems.append(
                Problem(index, None, "request_id", f"expected a string of 1-{_MAX_ID} characters")
            )
            continue
        unknown = sorted(set(raw) - {"request_id", "label", "timestamp"})
        label = raw.get("label")
        if unknown:
            problems.append(
                Problem(
                    index,
                    request_id,
                    unknown[0],
                    "unknown field; fields: request_id, label, timestamp",
                )
            )
            continue
        if model.classes:
            label = class_label(label, model.classes)
            if label is None:
                problems.append(
                    Problem(
                        index,
                        request_id,
                        "label",
                        f"unknown class {raw.get('label')!r}; classes: {', '.join(model.classes)}",
                    )
                )
                continue
        elif not _is_number(label):
            problems.append(
                Problem(index, request_id, "label", f"expected a number, got {label!r}")
            )
            continue
        try:
            when = None if raw.get("timestamp") is None else _timestamp(raw["timestamp"], 0.0)
        except ValueError as error:
            problems.append(Problem(index, request_id, "timestamp", str(error)))
            continue
        good.request_ids.append(request_id)
        good.values.append(label)
        good.timestamps_us.append(when)
    return good, problems
