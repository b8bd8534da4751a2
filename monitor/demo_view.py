"""The terminal side of the demo: progress while traffic replays, then a summary table."""

from __future__ import annotations

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
    console.print(
        f"[bold]Driftline demo[/bold]: model [cyan]{DEMO_MODEL}[/cyan] on "
        f"{display_url(engine.url)}",
        highlight=False,
    )
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
    console.print(_phase_table(report))
    console.print(
        f"stored {report.records_stored:,} prediction records and {report.labels_stored:,} "
        f"late labels; replaying the last batch stored nothing new "
        f"({report.replayed_duplicates} duplicates skipped).",
        highlight=False,
    )
    return report


def _phase_table(report: DemoReport) -> Table:
    table = Table(title="Each phase's window, read back from the store")
    for column in ("phase", "records", "bad input", "mean f0", "corporate share", "accuracy",
                   "label coverage", "read time"):  # fmt: skip
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase in report.phases:
        table.add_row(
            phase.name,
            f"{phase.records:,}",
            f"{phase.bad_input_share:.1%}",
            f"{phase.mean_f0:+.2f}",
            f"{phase.corporate_share:.1%}",
            f"{phase.accuracy:.1%}",
            f"{phase.label_coverage:.0%}",
            f"{phase.read_seconds * 1000:.0f} ms",
        )
    return table
