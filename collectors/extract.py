"""Calls to a model server that Driftline does not serve, read as records of a model.

The sidecar sees such calls through its reverse proxy or as payload-logger CloudEvents, in
one of three forms:

``oip_v2``
    Open Inference Protocol v2: ``{"id", "inputs": [{"name", "shape", "datatype", "data"}]}``
    → ``{"model_name", "id", "outputs": [...]}``. The inputs are one ``[n, m]`` tensor whose
    columns are the model's features in declared order, or one tensor per feature, named
    after it; ``data`` may be flat or nested. Outputs are found by name
    (:class:`PayloadSpec`, else ``predict`` / ``predict_proba`` and their usual aliases).
``kserve_v1``
    ``{"instances": [...]}`` (``inputs`` wins when both are there, as in KServe), one row per
    element: a list in feature order or an object by feature name → ``{"predictions": [...]}``.
``json``
    Anything else, read at the dotted paths of a :class:`PayloadSpec`
    (``features="data.rows"``, ``prediction="result.label"``); a path that meets a list maps
    over its elements, a number in a path indexes one.

Records have the ingest API's shape, so :func:`collectors.ingest.parse_records` checks them
as it checks sent ones. Ids are ``<id>`` for a one-row call and ``<id>:<row>`` otherwise, as
the inference server's tap stores them. No bad payload raises: a request that cannot be read
is one ``bad_input`` record saying why; a response that cannot be read keeps the request's
features and is an ``error``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
from numpy.typing import NDArray

from collectors.ingest import parse_records
from storage import FeatureKind, ModelHandle, NotFoundError, PredictionBatch

__all__ = [
    "Body",
    "Exchange",
    "ExchangeRecords",
    "Form",
    "Outcome",
    "Parsed",
    "PayloadSpec",
    "extract",
]

logger = logging.getLogger(__name__)

Form = Literal["auto", "oip_v2", "kserve_v1", "json"]
Outcome = Literal["ok", "bad_input", "error", "timeout"]

_PREDICTION = ("predict", "prediction", "predictions", "label", "labels", "output_label", "class")
_PROBABILITIES = ("predict_proba", "probabilities", "probability", "proba", "output_probability")
_MAX_DECODED_BYTES = 64 * 2**20
_MAX_MESSAGE = 1000


class _Unreadable(Exception):
    """Part of a payload cannot be read; the message becomes the record's reason."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A payload that arrived already parsed (the ``data`` of a structured CloudEvent)."""

    value: Any


Body = bytes | Parsed


@dataclass(frozen=True, slots=True)
class PayloadSpec:
    """Where one model's payloads keep what Driftline records, when the defaults miss it.

    Parameters
    ----------
    form
        The wire form; ``auto`` recognises OIP v2 and KServe v1, and means ``json`` when
        ``features`` is set.
    features
        ``json``: dotted path in the request to the rows (objects by feature name, lists in
        feature order) or to one row.
    prediction, probabilities
        ``json``: dotted paths in the response (one entry per row). ``oip_v2``: output names.
    request_id
        ``json``: dotted path in the request to the call's id.
    """

    form: Form = "auto"
    features: str | None = None
    prediction: str | None = None
    probabilities: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One call to a model server as the sidecar saw it; bodies raw, nothing parsed yet.

    ``outcome`` is set when there was no usable HTTP answer (unreachable, timed out, too
    large to keep); otherwise the status follows ``http_status``: 2xx ok, 4xx bad_input,
    others error. ``request_id`` is used when the request body carries no id of its own.
    """

    request: Body | None
    response: Body | None
    received_at: float
    request_id: str
    latency_seconds: float | None = None
    http_status: int | None = None
    outcome: Outcome | None = None
    error: str | None = None
    form: Form = "auto"
    request_encoding: str | None = None
    response_encoding: str | None = None


def extract(
    exchange: Exchange, model: ModelHandle, spec: PayloadSpec | None = None
) -> list[dict[str, Any]]:
    """The records of ``exchange`` for ``model``, in the ingest API's record shape."""
    read = _read(exchange, model, spec or PayloadSpec())
    rid = read.request_id or exchange.request_id
    # An empty list of predictions in a lone response says nothing about any row: the call
    # is still one record, without a prediction.
    predictions = read.predictions or None
    n = len(read.rows) if read.rows is not None else len(predictions or [None])
    latency = exchange.latency_seconds
    records = []
    for k in range(n):
        record: dict[str, Any] = {
            "request_id": rid if n == 1 else f"{rid}:{k}",
            "timestamp": exchange.received_at,
            "features": read.rows[k] if read.rows is not None else {},
            "status": read.outcome,
        }
        if latency is not None and math.isfinite(latency):
            record["latency_seconds"] = max(latency, 0.0)
        if predictions is not None:
            record["prediction"] = predictions[k]
        if read.probabilities is not None:
            record["probabilities"] = read.probabilities[k]
        if read.error is not None:
            record["error"] = read.error[:_MAX_MESSAGE]
        records.append(record)
    return records


@dataclass(slots=True)
class _Read:
    outcome: Outcome
    error: str | None
    rows: list[dict[str, Any]] | None = None
    request_id: str | None = None
    predictions: list[Any] | None = None
    probabilities: list[Any] | None = None


def _read(exchange: Exchange, model: ModelHandle, spec: PayloadSpec) -> _Read:
    """What the exchange says; the first explanation of a failure wins, in this order: the
    transport, the server's own status and message, the request, the response."""
    form = spec.form if exchange.form == "auto" else exchange.form
    problems: list[tuple[Outcome, str]] = []
    rows, request_id, answer = None, None, None
    if exchange.request is not None:
        try:
            document = _load(exchange.request, exchange.request_encoding)
            form = _detect(document, form, spec, "request")
            rows, request_id = _rows(document, form, model, spec)
        except _Unreadable as problem:
            problems.append(("bad_input", f"request: {problem}"))
    if exchange.response is not None:
        try:
            answer = _load(exchange.response, exchange.response_encoding)
        except _Unreadable as problem:
            problems.append(("error", f"response: {problem}"))
    outcome, error = _http_outcome(exchange.http_status, answer)
    if exchange.outcome is not None:
        outcome, error = exchange.outcome, exchange.error
    elif outcome == "ok" and problems:
        outcome, error = problems[0]
    read = _Read(outcome, error, rows)
    if outcome == "ok":
        try:
            form = _detect(answer, form, spec, "response")
            n = None if rows is None else len(rows)
            read.predictions, read.probabilities = _outputs(answer, form, model, spec, n)
        except _Unreadable as problem:
            read.outcome, read.error = "error", f"response: {problem}"
    if request_id is None and isinstance(answer, dict):
        request_id = answer.get("id")
    if isinstance(request_id, str | int) and not isinstance(request_id, bool) and request_id != "":
        read.request_id = str(request_id)
    return read


class ExchangeRecords:
    """An exchange that becomes records on the collector's thread (a ``RecordSource``).

    Parameters
    ----------
    model, version
        The Driftline model, and its version (None: the newest registered one). Both are
        looked up through ``lookup`` when the collector first asks, on its thread, never on
        the event loop; an unknown model reads as version ``""``, which the collector then
        rejects, counted.
    lookup
        The collector's cached ``handle(model, version)``.
    spec
        Where the model's payloads keep features and outputs.
    release
        Called once when the bodies are no longer needed: after :meth:`records`, when the
        model is unknown, or when the collector drops this source unread.
    """

    def __init__(
        self,
        model: str,
        version: str | None,
        exchange: Exchange,
        *,
        lookup: Callable[[str, str | None], ModelHandle],
        spec: PayloadSpec | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self._model = model
        self._version = version
        self._checked = False
        self._exchange: Exchange | None = exchange
        self._lookup = lookup
        self._spec = spec
        self._release = None if release is None else weakref.finalize(self, release)

    @property
    def model(self) -> str:
        return self._model

    @property
    def version(self) -> str:
        if not self._checked:
            self._checked = True
            try:
                self._version = self._lookup(self._model, self._version).version
            except NotFoundError:
                self._done()
        return self._version or ""

    def records(self, model: ModelHandle) -> PredictionBatch:
        """The exchange's records, checked as the ingest API checks sent ones."""
        if self._exchange is None:  # a bug in the caller, not bad input
            raise RuntimeError("ExchangeRecords.records() was already called")
        try:
            records = extract(self._exchange, model, self._spec)
        finally:
            self._done()
        item, problems = parse_records(records, model)
        for problem in problems:
            logger.debug("recorded %s as bad input: %s", model.model_name, problem.describe())
        return item.batch

    def _done(self) -> None:
        self._exchange = None
        if self._release is not None:
            self._release()


def _load(body: Body, encoding: str | None) -> Any:
    if isinstance(body, Parsed):
        return body.value
    coding = (encoding or "identity").strip().lower()
    if coding in ("gzip", "deflate", "x-gzip"):
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
        try:
            body = inflater.decompress(body, _MAX_DECODED_BYTES)
        except zlib.error as error:
            raise _Unreadable(f"not valid {coding} data ({error})") from None
        if inflater.unconsumed_tail:
            raise _Unreadable(f"more than {_MAX_DECODED_BYTES} bytes once decompressed")
    elif coding != "identity":
        raise _Unreadable(f"content-encoding {coding!r} is not supported")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _Unreadable(f"not valid JSON ({error})") from None


def _detect(document: Any, form: Form, spec: PayloadSpec, part: str) -> Form:
    if form != "auto":
        return form
    keys = document if isinstance(document, dict) else {}
    tensors = keys.get("inputs") if part == "request" else keys.get("outputs")
    if (
        isinstance(tensors, list)
        and tensors
        and all(isinstance(t, dict) and "data" in t for t in tensors)
    ):
        return "oip_v2"
    if any(isinstance(keys.get(k), list) for k in ("instances", "inputs", "predictions")):
        return "kserve_v1"
    if spec.features is not None or (part == "response" and spec.prediction is not None):
        return "json"
    what = '"inputs" tensors, "instances"' if part == "request" else '"outputs", "predictions"'
    raise _Unreadable(f"not an OIP v2 or KServe v1 payload (no {what}) and no JSON paths given")


def _rows(
    document: Any, form: Form, model: ModelHandle, spec: PayloadSpec
) -> tuple[list[dict[str, Any]], object]:
    if form == "oip_v2":
        return _oip_rows(_key(document, "inputs"), model), document.get("id")
    if form == "kserve_v1":
        key = "inputs" if isinstance(document.get("inputs"), list) else "instances"
        return _each_row(_key(document, key), model, key), None
    if spec.features is None:
        raise _Unreadable("no features path given for this model's JSON payloads")
    found = _at(document, spec.features)
    rows = [_row(found, model, spec.features)] if isinstance(found, dict) else None
    request_id = None
    if spec.request_id is not None:
        with contextlib.suppress(_Unreadable):  # else the call's own id is used
            request_id = _at(document, spec.request_id)
    return rows or _each_row(found, model, spec.features), request_id


def _key(document: Any, key: str) -> Any:
    if not isinstance(document, dict) or key not in document:
        raise _Unreadable(f'expected an object with "{key}"')
    return document[key]


def _each_row(items: Any, model: ModelHandle, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise _Unreadable(f"{where}: expected a non-empty list of rows")
    return [_row(item, model, f"{where}[{i}]") for i, item in enumerate(items)]


def _row(item: Any, model: ModelHandle, where: str) -> dict[str, Any]:
    features = model.schema.features
    if isinstance(item, dict):
        row = {spec.name: item[spec.name] for spec in features if spec.name in item}
        if not row:
            raise _Unreadable(f"{where}: an object with none of the features ({_names(model)})")
        return row
    if isinstance(item, list) and len(item) == len(features):
        return {spec.name: value for spec, value in zip(features, item, strict=True)}
    if not isinstance(item, list | dict) and len(features) == 1:
        return {features[0].name: item}
    got = f"{len(item)} values" if isinstance(item, list) else type(item).__name__
    expected = f"{len(features)} values ({_names(model)}) or an object"
    raise _Unreadable(f"{where}: expected {expected}, got {got}")


def _names(model: ModelHandle) -> str:
    return ", ".join(spec.name for spec in model.schema.features)


def _at(document: Any, path: str) -> Any:
    value, parts = document, path.split(".")
    for i, part in enumerate(parts):
        if isinstance(value, list) and not part.isdigit():
            return [_at(item, ".".join(parts[i:])) for item in value]
        if isinstance(value, list):
            if int(part) >= len(value):
                raise _Unreadable(f"{path}: index {part} is past the end of a list of {len(value)}")
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise _Unreadable(f"{path}: no {part!r} in the payload")
    return value


def _tensors(items: Any, where: str) -> dict[str, list[list[Any]]]:
    """OIP v2 tensors by name, each as rows (first dimension) of flattened values."""
    if not isinstance(items, list) or not items:
        raise _Unreadable(f"{where}: expected a non-empty list of tensors")
    tensors: dict[str, list[list[Any]]] = {}
    for i, tensor in enumerate(items):
        at = f"{where}[{i}]"
        shape = tensor.get("shape") if isinstance(tensor, dict) else None
        if (
            not isinstance(shape, list)
            or not shape
            or not all(type(d) is int and d >= 0 for d in shape)
        ):
            raise _Unreadable(f"{at}: expected an object with a shape of non-negative integers")
        array = _array(tensor.get("data"), at)
        count = math.prod(shape)
        if array.size != count or shape[0] == 0:
            raise _Unreadable(f"{at}: shape {shape} needs {count} values, data has {array.size}")
        tensors[str(tensor.get("name", i))] = array.reshape(shape[0], -1).tolist()
    return tensors


def _array(data: Any, where: str) -> NDArray[Any]:
    """Tensor data as an array keeping Python values (numbers stay numbers beside strings)."""
    try:
        array = np.asarray(data)
        if array.dtype.kind in "biuf":
            return array
    except ValueError:
        pass
    array = np.asarray(data, dtype=object)
    if any(isinstance(value, list) for value in array.flat):
        raise _Unreadable(f"{where}.data: nested lists of uneven lengths")
    return array


def _oip_rows(items: Any, model: ModelHandle) -> list[dict[str, Any]]:
    tensors = _tensors(items, "inputs")
    features = model.schema.features
    named = {spec.name: tensors[spec.name] for spec in features if spec.name in tensors}
    if not named and len(tensors) == 1:
        name, values = next(iter(tensors.items()))
        widths = [spec.dims or 1 for spec in features]
        if len(values[0]) != sum(widths):
            raise _Unreadable(
                f"inputs[0] ({name!r}): expected {sum(widths)} columns ({_names(model)}), "
                f"got {len(values[0])}"
            )
        starts = np.cumsum([0, *widths]).tolist()
        return [
            {
                spec.name: row[a] if spec.kind is not FeatureKind.EMBEDDING else row[a:b]
                for spec, a, b in zip(features, starts, starts[1:], strict=False)
            }
            for row in values
        ]
    if not named:
        names = _names(model)
        raise _Unreadable(f"no input named after a feature ({names}) and not one [n, m] tensor")
    counts = {len(values) for values in named.values()}
    if len(counts) > 1:
        raise _Unreadable(f"inputs: feature tensors have different row counts {sorted(counts)}")
    rows: list[dict[str, Any]] = [{} for _ in range(counts.pop())]
    for spec in features:
        for row, values in zip(rows, named.get(spec.name, ()), strict=False):
            if spec.kind is FeatureKind.EMBEDDING:
                row[spec.name] = values
            elif len(values) == 1:
                row[spec.name] = values[0]
            else:
                msg = f"input {spec.name!r}: expected one value per row, got {len(values)}"
                raise _Unreadable(msg)
    return rows


def _outputs(
    answer: Any, form: Form, model: ModelHandle, spec: PayloadSpec, n: int | None
) -> tuple[list[Any] | None, list[Any] | None]:
    """Predictions and probabilities, one per row; at least one of them."""
    if form == "oip_v2":
        tensors = _tensors(_key(answer, "outputs"), "outputs")
        names = list(tensors)
        prediction = spec.prediction or next((o for o in _PREDICTION if o in tensors), None)
        probabilities = spec.probabilities or next(
            (o for o in _PROBABILITIES if o in tensors), None
        )
        if prediction is None and probabilities is None and len(tensors) == 1:
            wide = len(model.classes) > 1 and len(tensors[names[0]][0]) == len(model.classes)
            prediction, probabilities = (None, names[0]) if wide else (names[0], None)
        for name in (prediction, probabilities):
            if name is not None and name not in tensors:
                raise _Unreadable(f"no output named {name!r}; outputs: {', '.join(names)}")
        predicted = None if prediction is None else [row[0] for row in tensors[prediction]]
        elements = predicted or [None] * len(tensors[probabilities or names[0]])
        scores = None if probabilities is None else tensors[probabilities]
    elif form == "kserve_v1":
        elements, scores = _key(answer, "predictions"), None
    else:
        if spec.prediction is None and spec.probabilities is None:
            raise _Unreadable("no prediction or probabilities path given")
        elements = [None] * (n or 1) if spec.prediction is None else _at(answer, spec.prediction)
        scores = None if spec.probabilities is None else _at(answer, spec.probabilities)
        if scores is not None and n == 1 and all(_is_number(v) for v in scores):
            scores = [scores]
        elements = elements if isinstance(elements, list) else [elements]
    return _finish(elements, scores, model, n)


def _finish(
    elements: Any, scores: Any, model: ModelHandle, n: int | None
) -> tuple[list[Any] | None, list[Any] | None]:
    if not isinstance(elements, list) or (n is not None and len(elements) != n):
        got = f"{len(elements)}" if isinstance(elements, list) else type(elements).__name__
        raise _Unreadable(f"expected {n or 'a list of'} predictions (one per row), got {got}")
    if scores is not None and (not isinstance(scores, list) or len(scores) != len(elements)):
        raise _Unreadable(f"expected {len(elements)} rows of probabilities")
    k = len(model.classes)
    predictions: list[Any] = []
    probabilities: list[Any] = list(scores) if scores is not None else [None] * len(elements)
    for i, element in enumerate(elements):
        value = element
        if isinstance(element, dict):
            value = next((element[o] for o in _PREDICTION if o in element), None)
            scored = next((element[o] for o in _PROBABILITIES if o in element), None)
            probabilities[i] = probabilities[i] if scored is None else scored
        elif isinstance(element, list) and len(element) == 1:
            value = element[0]
        elif isinstance(element, list) and k > 1 and len(element) == k:
            value, probabilities[i] = None, element
        if value is None and probabilities[i] is not None and k:
            row = probabilities[i]
            if isinstance(row, list) and len(row) == k and all(_is_number(p) for p in row):
                value = model.classes[int(np.argmax(row))]
        if isinstance(value, bool) or (isinstance(value, float) and value.is_integer() and k):
            value = int(value)
        if value is None or isinstance(value, list | dict):
            raise _Unreadable(f"predictions[{i}]: expected a value, got {element!r:.80}")
        predictions.append(value)
    has_scores = any(p is not None for p in probabilities)
    return predictions, probabilities if has_scores and k else None


def _http_outcome(status: int | None, answer: Any) -> tuple[Outcome, str | None]:
    if status is not None and 200 <= status < 300:
        return "ok", None
    message = answer.get("error") if isinstance(answer, dict) else None
    detail = f"HTTP {status}" + (f": {message}" if isinstance(message, str) else "")
    return ("bad_input" if status is not None and 400 <= status < 500 else "error"), detail


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
