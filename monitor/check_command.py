"""``driftline check REFERENCE CURRENT``: a one-off drift check of two data files.

Reads both files (:mod:`monitor.frames`), tests every shared column with
:func:`detectors.check.check`, and writes a table, a JSON document or Evidently's HTML
report. The exit status is the verdict: 0 no drift, 1 drift.

Opt-in sections: ``--multivariate`` adds a domain classifier over all tested columns
(categories as ordinal codes); ``--text NAME`` tests a column's documents for text drift
instead of skipping it. Text-like columns are found and skipped as before unless named.
Either section drifting makes the exit status 1 (JSON ``drift``), while ``dataset_drift``
stays the verdict of the columns' share.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import sys
from collections.abc import Iterator, Sequence
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
from detectors.results import MultivariateTest
from detectors.selection import Policy
from monitor.errors import ConfigError
from monitor.frames import ColumnPlan, Skipped, encode, plan_columns, read_frame, report_frame

__all__ = ["FORMATS", "HTML_DEFAULT", "CheckOptions", "parse_names", "run_check"]

FORMATS = ("table", "json", "html")
#: Where ``--format html`` writes without ``--output`` (in the working directory).
HTML_DEFAULT = Path("drift-report.html")
#: Features named in the table's multivariate lines.
TOP_FEATURES = 5
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
    #: Also test all columns together with a domain classifier.
    multivariate: bool = False
    #: Columns tested as text (documents) instead of by kind.
    text: tuple[str, ...] = ()


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
    forced = sorted(set(options.text) & {*options.categorical, *options.numeric})
    if forced:
        raise ConfigError(f"column(s) {forced} cannot be both --text and --categorical/--numeric")


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
    return 1 if outcome.report.drift else 0


def _compare(options: CheckOptions) -> _Outcome:
    reference = read_frame(options.reference, open_binary=_open_with_progress)
    current = read_frame(options.current, open_binary=_open_with_progress)
    columns = options.columns
    if options.text:
        _check_text_columns(options, reference, current)
        available = [*reference.columns, *(c for c in current.columns if c not in reference)]
        columns = tuple(name for name in columns or available if name not in options.text)
    plan = _hint_text(
        plan_columns(
            reference,
            current,
            columns=columns,
            categorical=options.categorical,
            numeric=options.numeric,
        )
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
        multivariate=options.multivariate,
        text={name: _documents(reference[name]) for name in options.text},
    )
    report = check(
        fitted,
        cur.numeric,
        cur.categorical,
        policy=cast(Policy, options.policy),  # validated by _validate
        correction=cast(Correction, options.correction),
        drift_share=options.drift_share,
        sample_limit=options.sample_limit,
        text={name: _documents(current[name]) for name in options.text},
    )
    return _Outcome(reference, current, plan, report)


def _check_text_columns(options: CheckOptions, reference: Any, current: Any) -> None:
    for name in options.text:
        absent = [side for side, frame in (("reference", reference), ("current", current))
                  if name not in frame]  # fmt: skip
        if absent:
            sources = {"reference": options.reference, "current": options.current}
            msg = f"--text: column {name!r} is not in {sources[absent[0]]}"
            raise ConfigError(msg)


def _hint_text(plan: ColumnPlan) -> ColumnPlan:
    """Skipped text columns name the option that tests them."""
    skipped = tuple(
        Skipped(s.name, f"text column; test it with --text {s.name}")
        if s.reason.startswith("text column")
        else s
        for s in plan.skipped
    )
    return dataclasses.replace(plan, skipped=skipped)


def _documents(series: Any) -> Sequence[str]:
    """A text column's present values as strings (missing values dropped)."""
    return [str(value) for value in series.dropna().tolist()]


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
        for line in _section_lines(report):
            console.print(line, markup=False)
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
        "multivariate": None if report.multivariate is None else _section(report.multivariate),
        "text": [{"name": t.name, **_section(t.result)} for t in report.text],
        "drift": report.drift,
    }


def _section(result: MultivariateTest) -> dict[str, Any]:
    """A multivariate or text test as JSON."""
    return {
        "test": result.method,
        "statistic": _number(result.statistic),
        "p_value": _number(result.p_value),
        "threshold": result.alpha,
        "effect": _number(result.effect),
        "min_effect": result.min_effect,
        "ci": None if result.ci is None else [_number(v) for v in result.ci],
        "confidence": result.confidence,
        "drift": result.drift,
        "n_reference": result.n_reference,
        "n_current": result.n_current,
        "top_features": [
            {
                "name": f.name,
                "score": _number(f.score),
                "reference": _number(f.reference),
                "current": _number(f.current),
            }
            for f in result.top(TOP_FEATURES)
        ],
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
    for line in _section_lines(report):
        console.print(line, markup=False)
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


_METHODS = {
    "domain_classifier": "classifier AUC",
    "mmd": "MMD²",
    "pca_reconstruction": "PCA error",
}


def _section_line(label: str, result: MultivariateTest) -> str:
    statistic = f"{result.statistic:.3f}" if result.ci is not None else _format(result.statistic)
    value = f"{_METHODS.get(result.method, result.method)} {statistic}"
    if result.ci is not None and result.confidence is not None:
        low, high = result.ci
        value += f" ({result.confidence:.0%} CI {low:.3f}–{high:.3f})"
    verdict = "drift" if result.drift else "no drift"
    return f"{label}: {value}, p {_format(result.p_value)}: {verdict}"


def _section_lines(report: DriftReport) -> list[str]:
    """The multivariate and text verdicts, with what explains them, then the overall one."""
    lines = []
    if report.multivariate is not None:
        lines.append(_section_line("multivariate", report.multivariate))
        top = [f for f in report.multivariate.top(TOP_FEATURES) if f.score > 0]
        if top:
            listed = ", ".join(f"{f.name} {f.score:.3f}" for f in top)
            lines.append(f"  AUC lost without: {listed}")
    for text in report.text:
        lines.append(_section_line(f"text {text.name}", text.result))
        for f in text.result.top(TOP_FEATURES):
            if f.reference is not None and f.current is not None:
                lines.append(
                    f"  {f.name}: {f.reference:.3g} → {f.current:.3g} (KS D {f.score:.2f})"
                )
    if lines:
        lines.append(f"overall: {'drift' if report.drift else 'no drift'}")
    return lines


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
