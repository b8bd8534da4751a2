"""The demo in the terminal: steps, a progress line, events as they happen, the summary."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.demo.run import DemoOptions, DemoSummary, Detection, Event, run_demo
from monitor.demo.scenario import Scenario

__all__ = ["DemoView", "print_summary"]

_EVENT_STYLE = {"phase": "bold cyan", "flagged": "yellow", "alert": "red", "retrain": "magenta"}
_EVENT_MARK = {"phase": "▶", "flagged": "●", "alert": "✉", "retrain": "↻"}


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


class DemoView:
    """Shows one demo run on ``console``."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._scenario = Scenario()

    def step(self, text: str) -> None:
        self._console.print(f"[dim]•[/dim] {text}", highlight=False)

    def ready(self, summary: DemoSummary) -> None:
        console = self._console
        console.print()
        console.print(f"[bold]dashboard[/bold]  {summary.dashboard_url}", highlight=False)
        console.print(f"store      {summary.store}", markup=False, highlight=False)
        console.print(f"files      {summary.directory} (logs/ holds each process's log)",
                      markup=False, highlight=False)  # fmt: skip
        console.print()
        self._progress.start()
        self._task = self._progress.add_task("replaying traffic", total=1.0, stats="")

    def progress(self, share: float, summary: DemoSummary) -> None:
        if self._task is None:
            return
        phase = " + ".join(self._scenario.phase_names(share)) if share < 1 else "draining"
        records = summary.records
        stats = (
            f"{phase} · stored {records.records:,} records ({records.failed:,} failed), "
            f"{records.labels:,} labels"
        )
        self._progress.update(self._task, completed=share, stats=stats)

    def event(self, event: Event) -> None:
        style = _EVENT_STYLE.get(event.kind, "")
        mark = _EVENT_MARK.get(event.kind, "-")
        signed = ""
        if event.verified is not None:
            signed = (
                " [green](signature verified)[/green]"
                if event.verified
                else (" [bold red](BAD SIGNATURE)[/bold red]")
            )
        self._console.print(
            f"[dim]{event.seconds:>6.1f} s[/dim] [{style}]{mark} {event.text}[/{style}]{signed}",
            highlight=False,
        )

    def run(self, options: DemoOptions) -> DemoSummary:
        """Run the demo with this view; print the summary at the end."""
        self._console.print("[bold]Driftline demo[/bold]", highlight=False)
        try:
            summary = run_demo(
                options,
                on_event=self.event,
                on_ready=self.ready,
                on_progress=self.progress,
                on_step=self.step,
            )
        finally:
            self._progress.stop()
        print_summary(self._console, summary)
        return summary


def _detection_row(detection: Detection) -> tuple[str, ...]:
    alert = _seconds(detection.alert_at)
    if detection.alert_at is not None:
        alert += " ✓ signed" if detection.alert_verified else " ✗ bad signature"
    if not detection.retrain_expected:
        retrain = "not asked (no model decay)"
    else:
        retrain = _seconds(detection.retrain_at)
        if detection.retrain_at is not None:
            retrain += " ✓ signed" if detection.retrain_verified else " ✗ bad signature"
    return (
        detection.phase,
        _seconds(detection.injected_at),
        f"{detection.monitor_kind} {_seconds(detection.flagged_at)}",
        alert,
        retrain,
    )


def print_summary(console: Console, summary: DemoSummary) -> None:
    """The end-of-demo report: what was stored, what was found and when, what was sent."""
    traffic, records = summary.traffic, summary.records
    console.print()
    console.print("[bold]Summary[/bold]" + (" (interrupted)" if summary.interrupted else ""))
    console.print(
        f"requests sent {traffic.requests:,}: {traffic.answered:,} answered, "
        f"{traffic.refused:,} refused as malformed, {traffic.failed:,} failed"
        + (f", {traffic.shed:,} not sent (the machine was busy)" if traffic.shed else "")
        + " · "
        f"labels sent {traffic.labels_sent:,} ({traffic.labels_accepted:,} accepted)",
        highlight=False,
    )
    console.print(
        f"stored {records.records:,} prediction records ({records.failed:,} failed) and "
        f"{records.labels:,} labels in {summary.store}",
        markup=False,
        highlight=False,
    )
    table = Table(box=box.SIMPLE_HEAD, title="injected → found (seconds after the traffic began)")
    for column in ("injected", "at", "flagged by", "alert delivered", "retraining webhook"):
        table.add_column(column)
    for detection in summary.detections:
        table.add_row(*_detection_row(detection))
    console.print(table)
    console.print(
        f"{summary.notifications} notification(s) and {summary.retrain_requests} retraining "
        f"request(s) received, {summary.unverified_deliveries} with a bad signature",
        highlight=False,
    )
    if summary.ok:
        console.print("[bold green]every injected problem was found and reported[/bold green]")
    elif not summary.interrupted:
        missing = [d.phase for d in summary.detections if not d.complete]
        console.print(f"[bold red]not shown in time: {', '.join(missing)}[/bold red]")
    console.print(
        "Open the dashboard again on this store: DRIFTLINE_API_AUTH=false driftline "
        f"--database-url {summary.store} monitor --no-scheduler",
        markup=False,
        highlight=False,
    )
