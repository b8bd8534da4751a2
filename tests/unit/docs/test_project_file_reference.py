"""docs/project-file.md documents every key of the project file, each in its own section.

The keys come from the pydantic models of ``monitor.project`` (walked from ``Project`` down
through every nested model and every member of a tagged union) and from the ``PARAMS`` of
each monitor kind (``monitor.kinds``). Each model has a section in the page: the text under
the one heading that names its path in backticks (``### `models[].serving.batching` ``),
plus ``` `type: slack` ``` for a member of a union told apart by ``type`` and
``` `kind: health` ``` for a kind's params, up to the next heading. Every key must appear
in that section as ``` `key` ```.
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from monitor.project import MonitorKind, Project

DOC = Path(__file__).resolve().parents[3] / "docs" / "project-file.md"
ROOT = "driftline.yaml"
_HEADING = re.compile(r"^#{1,6} ")


@dataclass(frozen=True, slots=True)
class Section:
    """Where a set of keys is documented: a path and, for union members, a tag."""

    path: str
    tag: str | None
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"`{self.path}`" + (f" with `{self.tag}`" if self.tag else "")


def _models_in(annotation: Any) -> Iterator[tuple[type[BaseModel], bool]]:
    """The models a field holds, and whether it holds a list of them."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _models_in(get_args(annotation)[0])
    elif origin in (Union, types.UnionType):
        for member in get_args(annotation):
            yield from _models_in(member)
    elif origin in (tuple, list):
        for item in get_args(annotation):
            if item is not Ellipsis:
                yield from ((model, True) for model, _ in _models_in(item))
    elif origin is dict:
        return
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, False


def _tag(model: type[BaseModel]) -> str | None:
    """``type: <value>`` for a union member told apart by a literal ``type``."""
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    (value,) = get_args(field.annotation)
    return f"type: {value}"


def model_sections(model: type[BaseModel] = Project, path: str = ROOT) -> list[Section]:
    """One section per model reachable from ``model``, depth first."""
    keys = tuple(field.alias or name for name, field in model.model_fields.items())
    sections = [Section(path, _tag(model), keys)]
    for name, field in model.model_fields.items():
        key = field.alias or name
        for child, is_list in _models_in(field.annotation):
            child_path = (key if path == ROOT else f"{path}.{key}") + ("[]" if is_list else "")
            sections += model_sections(child, child_path)
    return sections


def params_sections() -> list[Section]:
    """One section per monitor kind: the keys of its ``params``."""
    return [
        Section(
            "monitors[].params",
            f"kind: {kind}",
            tuple(importlib.import_module(f"monitor.kinds.{kind}").PARAMS),
        )
        for kind in get_args(MonitorKind)
    ]


def split_sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` pairs; ``#`` lines inside fenced code are not headings."""
    found: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and _HEADING.match(line):
            found.append((line, []))
        elif found:
            found[-1][1].append(line)
    return [(heading, "\n".join(body)) for heading, body in found]


def problems(section: Section, text: str) -> list[str]:
    """What the page lacks for ``section``: its heading, or keys in its body."""
    wanted = [f"`{section.path}`", *([f"`{section.tag}`"] if section.tag else [])]
    matches = [body for heading, body in split_sections(text) if all(w in heading for w in wanted)]
    if len(matches) != 1:
        return [f"{len(matches)} headings name {section} (expected exactly one)"]
    return [
        f"key `{key}` of {section} is not mentioned as `{key}` in its section"
        for key in section.keys
        if f"`{key}`" not in matches[0]
    ]


ALL_SECTIONS = model_sections() + params_sections()


@pytest.mark.parametrize("section", ALL_SECTIONS, ids=str)
def test_every_key_is_documented_in_its_section(section: Section) -> None:
    found = problems(section, DOC.read_text("utf-8"))
    assert not found, "docs/project-file.md: " + "; ".join(found)


def test_the_walk_reaches_every_part_of_the_file() -> None:
    paths = {(s.path, s.tag) for s in ALL_SECTIONS}
    assert ("models[].serving.batching", None) in paths
    assert ("monitors[].window", "type: since_last_run") in paths
    assert ("channels[]", "type: retrain") in paths
    assert ("alerting.inhibit_rules[]", None) in paths
    assert ("monitors[].params", "kind: health") in paths
    rule = next(s for s in ALL_SECTIONS if s.path == "alert_rules[]")
    assert "for" in rule.keys  # the alias, as the file spells it


def test_a_missing_key_is_named() -> None:
    text = "## `alert_rules[].retrain`\n\n| `channels` | names |\n\n## next\n\n`cooldown`\n"
    section = Section("alert_rules[].retrain", None, ("channels", "cooldown"))
    assert problems(section, text) == [
        "key `cooldown` of `alert_rules[].retrain` is not mentioned as `cooldown` in its section"
    ]


def test_a_heading_inside_a_code_block_does_not_end_a_section() -> None:
    text = "### `channels[]` — `type: slack`\n\n```yaml\n# a comment\n```\n\n`webhook_url`\n"
    section = Section("channels[]", "type: slack", ("webhook_url",))
    assert problems(section, text) == []
