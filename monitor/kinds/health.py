"""``health``: latency quantiles, silence and error bursts of the model's service.

Detectors (:mod:`detectors.health`), each a row of the summary:

- ``health.latency_p50`` / ``_p95`` / ``_p99`` for each SLO given: the quantile of the
  requests' latencies (failed ones included when they have one: a timeout is slow; missing
  ones dropped) against its objective, ``alarm`` when significantly above it, ``warning``
  when only the estimate is;
- ``health.absence``: the silence from the window's last record to the run's time, ``alarm``
  from ``max_silence_seconds`` (``warning`` from half of it); a window without records is
  silent since its start;
- ``health.error_bursts``: buckets of ``bucket_seconds`` whose failure rate stands
  significantly out of the rest of the window (``alarm`` at twice the window's rate).

Status: the worst of the rows. Score: the estimate of the highest latency quantile asked
(the p99 when ``p99_slo`` is given), seconds.

Params
------
p50_slo, p95_slo, p99_slo
    Latency objectives of the median, p95 and p99, in seconds (> 0); at least one is
    required.
max_silence_seconds
    Silence before the run that raises an alarm, seconds (> 0). Default 300.
bucket_seconds
    Length of the buckets the error-burst check compares, seconds (> 0, whole
    microseconds). Default 60.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from detectors.health import check_absence, check_error_bursts, check_latencies
from detectors.outcome import DetectorResult
from monitor.kinds._columns import span
from monitor.kinds._outcome import KindOutcome, detector_row, finite_or_none, jsonable, worst
from monitor.kinds._params import MonitorParamsError, ParamReader
from monitor.project.monitors import MonitorSpec, ParamValue
from storage import Window

__all__ = ["PARAMS", "HealthParams", "read_params", "run"]

_SLOS = {"p50_slo": 0.5, "p95_slo": 0.95, "p99_slo": 0.99}
PARAMS = (*_SLOS, "max_silence_seconds", "bucket_seconds")


@dataclass(frozen=True, slots=True)
class HealthParams:
    """The params of a health monitor, checked, with defaults applied."""

    #: Quantile to objective (seconds), in increasing quantile order.
    slo_seconds: tuple[tuple[float, float], ...]
    max_silence_seconds: float = 300.0
    bucket_seconds: float = 60.0


def read_params(params: Mapping[str, ParamValue], *, monitor: str | None = None) -> HealthParams:
    """Check ``params`` (module notes) and apply the defaults."""
    reader = ParamReader("health", params, PARAMS, monitor=monitor)
    slos = []
    for key, quantile in _SLOS.items():
        seconds = reader.optional_number(key, low=0.0, low_open=True)
        if seconds is not None:
            slos.append((quantile, seconds))
    if not slos:
        keys = tuple(_SLOS)
        where = f"monitor {monitor!r}: " if monitor is not None else ""
        msg = (
            f"{where}params.{', params.'.join(keys)} of a health monitor: "
            "at least one latency objective (seconds) is required, got none"
        )
        raise MonitorParamsError(msg, kind="health", keys=keys, monitor=monitor)
    bucket = reader.number("bucket_seconds", 60.0, low=0.0, low_open=True)
    microseconds = bucket * 1e6
    if round(microseconds) < 1 or abs(round(microseconds) - microseconds) > 1e-6 * microseconds:
        raise reader.error("bucket_seconds", "a whole number of microseconds", got=bucket)
    return HealthParams(
        slo_seconds=tuple(slos),
        max_silence_seconds=reader.number("max_silence_seconds", 300.0, low=0.0, low_open=True),
        bucket_seconds=bucket,
    )


def run(spec: MonitorSpec, params: HealthParams, current: Window, *, now: datetime) -> KindOutcome:
    """Check the window's latencies, silence and error bursts (module notes)."""
    latencies = check_latencies(
        current.latency_seconds,
        slo_seconds=dict(params.slo_seconds),
        window=span(current),
    )
    last = int(current.timestamps_us.max()) if len(current) else None
    results: list[DetectorResult] = [
        *latencies,
        check_absence(
            last,
            now=now,
            max_silence_seconds=params.max_silence_seconds,
            since=current.start,
        ),
        check_error_bursts(
            current.timestamps_us,
            current.status.astype(np.int64),
            start=current.start,
            end=current.end,
            bucket_seconds=params.bucket_seconds,
            min_count=spec.min_samples,
        ),
    ]
    headline = latencies[-1]
    summary = {
        "detectors": [detector_row(result) for result in results],
        "headline": headline.detector,
        "latency_seconds": {r.detector: finite_or_none(r.score) for r in latencies},
        "silence_seconds": finite_or_none(results[len(latencies)].score),
    }
    return KindOutcome(
        status=worst(result.status.value for result in results),
        score=finite_or_none(headline.score),
        summary=jsonable(summary),
        details=jsonable({"results": [result.to_dict() for result in results]}),
    )
