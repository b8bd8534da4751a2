"""The terminal side of the demo: progress while traffic replays, then a summary table."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from monitor.demo import DEMO_MODEL, DemoReport, run_demo
from storage import display_url

__all__ = ["run_demo_view"]


def run_demo_view(engine: Engine, *, duration_seconds: float, seed: int | None) -> DemoReport:
    """Run the demo on ``engine`` and show it in the terminal."""
    console = Console()
    console.print("[bold]Driftline demo[/bold]", highlight=False)
    console.print(f"store: {display_url(engine.url)}", markup=False, highlight=False)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("replaying traffic", total=None)

        def on_tick(done: int, total: int, phase: str) -> None:
            progress.update(task, completed=done, total=total, description=f"phase: {phase:<16}")

        report = run_demo(engine, duration_seconds=duration_seconds, seed=seed, on_tick=on_tick)
    console.print(
        f"model {DEMO_MODEL}, version {report.version}: each phase's window read back",
        markup=False,
        highlight=False,
    )
    console.print(_phase_table(report))
    reads = ", ".join(f"{phase.read_seconds * 1000:.0f}" for phase in report.phases)
    console.print(
        f"stored {report.records_stored:,} prediction records and {report.labels_stored:,} late "
        f"labels; windows read in {reads} ms; replaying the last batch stored nothing new "
        f"({report.replayed_duplicates} duplicates skipped).",
        highlight=False,
    )
    return report


def _phase_table(report: DemoReport) -> Table:
    """Narrow enough for an 80-column terminal."""
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="bad: share of bad-input requests; labels: share with a late label",
    )
    table.add_column("phase", no_wrap=True)
    for column in ("records", "bad", "f0 mean", "corporate", "accuracy", "labels"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for phase in report.phases:
        table.add_row(
            phase.name,
            f"{phase.records:,}",
            f"{phase.bad_input_share:.1%}",
            f"{phase.mean_f0:+.2f}",
            f"{phase.corporate_share:.1%}",
            f"{phase.accuracy:.1%}",
            f"{phase.label_coverage:.0%}",
        )
    return table
