"""The election loop: start the scheduler on winning, stop it the moment the lock is lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.scheduling.election import Election


@dataclass
class FakeLeadership:
    """Grants the lock when ``free``; ``alive`` is what ``check`` reports while held."""

    free: bool = False
    alive: bool = True
    held: bool = False
    released: int = 0

    def acquire(self) -> bool:
        if self.held or self.free:
            self.held = True
        return self.held

    def check(self) -> bool:
        return self.held and self.alive

    def release(self) -> None:
        self.held = False
        self.released += 1


@dataclass
class FakeScheduler:
    events: list[str] = field(default_factory=list)
    leading: object = None

    def start(self) -> None:
        self.events.append("start")

    def stop(self, *, wait: bool = True) -> None:
        self.events.append(f"stop(wait={wait})")


def election(leadership: FakeLeadership, scheduler: FakeScheduler) -> Election:
    return Election(leadership, scheduler)  # type: ignore[arg-type]


def test_a_standby_starts_scheduling_when_the_lock_frees() -> None:
    lock, scheduler = FakeLeadership(free=False), FakeScheduler()
    elected = election(lock, scheduler)

    assert elected.step() is False
    assert scheduler.events == []
    lock.free = True
    assert elected.step() is True
    assert elected.step() is True  # still leading: no second start
    assert scheduler.events == ["start"]
    assert callable(scheduler.leading)
    assert scheduler.leading()  # runs ask the election's flag, not the database


def test_losing_the_lock_stops_the_scheduler_without_waiting() -> None:
    lock, scheduler = FakeLeadership(free=True), FakeScheduler()
    elected = election(lock, scheduler)
    elected.step()

    lock.alive = False
    assert elected.step() is False
    assert elected.leading() is False
    assert callable(scheduler.leading)
    assert not scheduler.leading()
    assert scheduler.events == ["start", "stop(wait=False)"]


def test_stop_lets_runs_finish_then_releases() -> None:
    lock, scheduler = FakeLeadership(free=True), FakeScheduler()
    elected = election(lock, scheduler)
    elected.step()

    elected.stop()

    assert scheduler.events == ["start", "stop(wait=True)"]
    assert lock.released == 1
    assert elected.leading() is False
