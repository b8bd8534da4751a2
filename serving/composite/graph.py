"""Which composites call which models: cycles, and the order to deploy them in."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from serving.composite.config import CompositeError
from serving.config import ModelConfig

__all__ = ["check_members", "deploy_order", "find_cycle"]

MembersOf = Callable[[str], Sequence[str]]
"""The members of the model called so (empty for a plain model or an unknown name)."""


def find_cycle(start: str, members_of: MembersOf) -> tuple[str, ...] | None:
    """A path of member calls from ``start`` back to it (``a → b → a``), if there is one."""
    path: list[str] = [start]
    seen: set[str] = set()

    def visit(name: str) -> bool:
        for member in members_of(name):
            if member == start:
                path.append(member)
                return True
            if member in seen:
                continue
            seen.add(member)
            path.append(member)
            if visit(member):
                return True
            path.pop()
        return False

    return tuple(path) if visit(start) else None


def check_members(config: ModelConfig, members_of: MembersOf) -> None:
    """Refuse a composite that names itself or would call itself through its members.

    ``members_of`` answers for the other models; ``config`` stands for its own name.
    """
    composite = config.composite
    if composite is None:
        return
    if config.name in composite.members:
        raise CompositeError(
            f"{composite.kind} {config.name!r}: names itself as a member; a composite calls "
            "other models"
        )

    def lookup(name: str) -> Sequence[str]:
        return composite.members if name == config.name else members_of(name)

    cycle = find_cycle(config.name, lookup)
    if cycle is not None:
        raise CompositeError(
            f"{composite.kind} {config.name!r}: its members call it back: {' → '.join(cycle)}"
        )


def deploy_order(configs: Sequence[ModelConfig]) -> list[ModelConfig]:
    """``configs`` with every composite after the members it names among them.

    Raises
    ------
    CompositeError
        For a composite that names itself or a cycle of composites.
    """
    by_name: dict[str, list[ModelConfig]] = {}
    for config in configs:
        by_name.setdefault(config.name, []).append(config)

    def members_of(name: str) -> Sequence[str]:
        composite = by_name[name][-1].composite if name in by_name else None
        return () if composite is None else composite.members

    for config in configs:
        check_members(config, members_of)
    ordered: list[ModelConfig] = []
    placed: set[int] = set()

    def place(config: ModelConfig) -> None:
        if id(config) in placed:
            return
        placed.add(id(config))
        for member in config.composite.members if config.composite is not None else ():
            for member_config in by_name.get(member, ()):
                place(member_config)
        ordered.append(config)

    for config in configs:
        place(config)
    return ordered
