"""``driftline check REFERENCE CURRENT``: a one-off drift check of two data files.

Reads both files (:mod:`monitor.frames`), tests every shared column with
:func:`detectors.check.check`, and writes a table, a JSON document or Evidently's HTML
report. The exit status is the dataset's verdict: 0 no drift, 1 drift.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast, get_args

import orjson
from rich import box
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from detectors.check import ColumnDrift, DriftReport, check, fit_reference
from detectors.decision import Correction
from detectors.selection import Policy
from monitor.errors import ConfigError
from monitor.frames import ColumnPlan, encode, plan_columns, read_frame, report_frame

__all__ = ["FORMATS", "HTML_DEFAULT", "CheckOptions", "parse_names", "run_check"]

FORMATS = ("table", "json", "html")
#: Where ``--format html`` writes without ``--output`` (in the working directory).
HTML_DEFAULT = Path("drift-report.html")
#: Files larger than this show a progress bar while they are read.
LARGE_FILE_BYTES = 50 * 1024 * 1024
_CORRECTIONS = {
    "bh": "Benjamini–Hochberg",
    "by": "Benjamini–Yekutieli",
    "bonferroni": "Bonferroni",
    "none": "no correction",
}


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The command's arguments, as given on the command line."""

    reference: Path
    current: Path
    output_format: str = "table"
    columns: tuple[str, ...] | None = None
    output: Path | None = None
    policy: str = "driftline"
    correction: str = "bh"
    drift_share: float = 0.5
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    #: Test a uniform sample of at most this many rows a side (quality covers every row).
    sample_limit: int | None = None


def parse_names(text: str | None) -> tuple[str, ...] | None:
    """``"a, b,c"`` → ``("a", "b", "c")``; None stays None."""
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")


def _validate(options: CheckOptions) -> None:
    _choice("--format", options.output_format, FORMATS)
    _choice("--policy", options.policy, get_args(Policy))
    _choice("--correction", options.correction, get_args(Correction))
    share = options.drift_share
    if not 0 < share <= 1:  # also rejects NaN
        raise ConfigError(f"--drift-share must be in (0, 1], got {share}")
    if options.sample_limit is not None and options.sample_limit < 1:
        raise ConfigError(
            f"--sample-limit must be a positive number of rows, got {options.sample_limit}"
        )


@contextlib.contextmanager
def _open_with_progress(path: Path) -> Iterator[IO[bytes]]:
    """Open ``path``; past ``LARGE_FILE_BYTES``, with a progress bar on stderr."""
    if path.stat().st_size <= LARGE_FILE_BYTES:
        with path.open("rb") as handle:
            yield handle
        return
    columns = (
        TextColumn("reading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    stderr = Console(stderr=True)
    with (
        Progress(
            *columns, console=stderr, transient=True, disable=not stderr.is_terminal
        ) as progress,
        progress.open(path, "rb", description=path.name) as handle,
    ):
        yield handle


@dataclass(frozen=True, slots=True)
class _Outcome:
    """Both files as read, the column plan and the detectors' report."""

    reference: Any  # pandas frames: pandas stays in monitor.frames
    current: Any
    plan: ColumnPlan
    report: DriftReport

    @property
    def rows(self) -> tuple[int, int]:
        return len(self.reference), len(self.current)


def run_check(options: CheckOptions, *, console: Console | None = None) -> int:
    """Run the check and write its output; returns the exit status (1: dataset drift)."""
    _validate(options)
    outcome = _compare(options)
    _write_output(options, outcome, console or Console(highlight=False))
    return 1 if outcome.report.dataset_drift else 0


def _compare(options: CheckOptions) -> _Outcome:
    reference = read_frame(options.reference, open_binary=_open_with_progress)
    current = read_frame(options.current, open_binary=_open_with_progress)
    plan = plan_columns(
        reference,
        current,
        columns=options.columns,
        categorical=options.categorical,
        numeric=options.numeric,
    )
    if not plan.numeric and not plan.categorical:
        msg = (
            f"{options.reference}, {options.current}: no column left to compare "
            "(none shared with the same kind)"
        )
        raise ConfigError(msg)
    sources = (str(options.reference), str(options.current))
    ref, cur, _ = encode(reference, current, plan, sources=sources)
    fitted = fit_reference(
        ref.numeric,
        ref.categorical,
        numeric_names=plan.numeric,
        categorical_names=plan.categorical,
        sample_limit=options.sample_limit,
    )
    report = check(
        fitted,
        cur.numeric,
        cur.categorical,
        policy=cast(Policy, options.policy),  # validated by _validate
        correction=cast(Correction, options.correction),
        drift_share=options.drift_share,
        sample_limit=options.sample_limit,
    )
    return _Outcome(reference, current, plan, report)


def _write_output(options: CheckOptions, outcome: _Outcome, console: Console) -> None:
    plan, report = outcome.plan, outcome.report
    if options.output_format == "json":
        document = _document(options, plan, report, outcome.rows)
        _emit(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n", options.output, console)
    elif options.output_format == "html":
        path = options.output or HTML_DEFAULT
        _write_html(
            path,
            report_frame(outcome.reference, plan, source=str(options.reference)),
            report_frame(outcome.current, plan, source=str(options.current)),
            plan,
        )
        console.print(f"Evidently report written to {path}", markup=False)
        console.print(_verdict(report), markup=False)
    elif options.output is None:
        _print_table(options, plan, report, outcome.rows, console)
    else:
        buffer = io.StringIO()
        _print_table(options, plan, report, outcome.rows, Console(file=buffer, width=100))
        _emit(buffer.getvalue().encode(), options.output, console)


def _emit(document: bytes, output: Path | None, console: Console) -> None:
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    _write(output, document)
    console.print(f"drift report written to {output}", markup=False)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None


# --- JSON -------------------------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _document(
    options: CheckOptions, plan: ColumnPlan, report: DriftReport, rows: tuple[int, int]
) -> dict[str, Any]:
    quality = report.quality
    columns = []
    per_column = {}
    for j, column in enumerate(report.columns):
        columns.append(
            {
                "name": column.name,
                "kind": column.kind,
                "test": column.method,
                "statistic": _number(column.statistic),
                "p_value": _number(column.p_value),
                "adjusted_p_value": _number(column.adjusted_p_value),
                "threshold": column.threshold,
                "drift": column.drifted,
                "effect": _number(column.effect),
                "n_reference": column.n_reference,
                "n_current": column.n_current,
                "missing_share_current": float(quality.missing_current[j]),
                "unseen_share": _number(column.unseen_share),
            }
        )
        per_column[column.name] = {
            "missing_share_reference": float(quality.missing_reference[j]),
            "missing_share_current": float(quality.missing_current[j]),
            "infinite_reference": int(quality.infinite_reference[j]),
            "infinite_current": int(quality.infinite_current[j]),
            "constant_reference": bool(quality.constant_reference[j]),
            "constant_current": bool(quality.constant_current[j]),
            "unseen_share": _number(column.unseen_share),
        }
    return {
        "reference": str(options.reference),
        "current": str(options.current),
        "rows": {"reference": rows[0], "current": rows[1]},
        "policy": options.policy,
        "correction": options.correction,
        "columns": columns,
        "quality": {
            "columns": per_column,
            "missing_in_current": list(plan.missing_in_current),
            "added_in_current": list(plan.added_in_current),
            "type_changed": [
                {"name": c.name, "reference": c.reference, "current": c.current}
                for c in plan.type_changed
            ],
            "skipped": [{"name": s.name, "reason": s.reason} for s in plan.skipped],
        },
        "drift_share": report.drift_share,
        "share_threshold": report.share_threshold,
        "dataset_drift": report.dataset_drift,
    }


# --- table ------------------------------------------------------------------------------------


def _format(value: float | None) -> str:
    if value is None:
        return ""
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def _severity(column: ColumnDrift) -> tuple[bool, float, float, str]:
    p_value = math.inf if column.p_value is None or math.isnan(column.p_value) else column.p_value
    effect = -column.effect if not math.isnan(column.effect) else math.inf
    return (not column.drifted, p_value, effect, column.name)


def _verdict(report: DriftReport) -> str:
    tested = [c for c in report.columns if not math.isnan(c.effect)]
    drifted = sum(c.drifted for c in tested)
    verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
    return (
        f"drift share {report.drift_share:.0%} ({drifted} of {len(tested)} columns), "
        f"threshold {report.share_threshold:.0%}: {verdict}"
    )


def _print_table(
    options: CheckOptions,
    plan: ColumnPlan,
    report: DriftReport,
    rows: tuple[int, int],
    console: Console,
) -> None:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("column", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("test")
    for header in ("statistic", "p-value", "threshold"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("drift", no_wrap=True)
    for column in sorted(report.columns, key=_severity):
        table.add_row(
            Text(column.name),
            column.kind,
            column.method.replace("_", " "),
            _format(column.statistic),
            _format(column.adjusted_p_value),
            _format(column.threshold),
            Text("yes", style="bold red") if column.drifted else Text("no"),
        )
    lines = [
        f"reference: {options.reference} ({rows[0]:,} rows)",
        f"current:   {options.current} ({rows[1]:,} rows)",
    ]
    for line in lines:
        console.print(line, markup=False)
    console.print(table)
    console.print(_verdict(report), markup=False)
    adjusted = (
        "p-values not corrected for multiple tests"
        if options.correction == "none"
        else f"p-values adjusted across the check ({_CORRECTIONS[options.correction]})"
    )
    console.print(f"policy {options.policy}; {adjusted}", markup=False)
    findings = _findings(plan, report)
    if findings:
        console.print("\ndata quality:", markup=False)
        for finding in findings:
            console.print(f"  - {finding}", markup=False)


def _findings(plan: ColumnPlan, report: DriftReport) -> list[str]:
    """One readable line per data-quality finding."""
    q = report.quality
    out = []
    for j, column in enumerate(report.columns):
        name = column.name
        for side, missing, infinite, constant in (
            ("reference", q.missing_reference[j], q.infinite_reference[j], q.constant_reference[j]),
            ("current", q.missing_current[j], q.infinite_current[j], q.constant_current[j]),
        ):
            if missing > 0:
                out.append(f"{name}: {missing:.1%} missing in {side}")
            if infinite > 0:
                out.append(f"{name}: {infinite} infinite value(s) in {side}, tested as missing")
            if constant:
                out.append(f"{name}: constant in {side}")
        if column.unseen_share:
            out.append(
                f"{name}: {column.unseen_share:.1%} of current values are categories "
                "the reference never had"
            )
    out += [f"{name}: missing in current (only in reference)" for name in plan.missing_in_current]
    out += [f"{name}: added in current (not in reference)" for name in plan.added_in_current]
    out += [
        f"{c.name}: type changed ({c.reference} in reference, {c.current} in current); not tested"
        for c in plan.type_changed
    ]
    out += [f"{s.name}: skipped, {s.reason}" for s in plan.skipped]
    return out


# --- HTML -------------------------------------------------------------------------------------


def _write_html(path: Path, reference: Any, current: Any, plan: ColumnPlan) -> None:
    """Evidently's DataDriftPreset report of the same columns, saved to ``path``."""
    from dashboards.reports import data_drift_html

    html = data_drift_html(reference, current, numeric=plan.numeric, categorical=plan.categorical)
    _write(path, html.encode())
