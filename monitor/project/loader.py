"""Reading ``driftline.yaml``: file and YAML errors, ``${NAME}`` references, validation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.errors import ProjectFileError
from monitor.project.document import Project
from monitor.project.environment import InterpolationError, interpolate
from monitor.project.messages import describe_validation_error, format_path

__all__ = ["load_project", "parse_project"]

_SECTIONS = "version, models, monitors, alert_rules, channels, alerting"


def load_project(path: Path | str, *, environ: Mapping[str, str] | None = None) -> Project:
    """Read, resolve and validate a project file.

    Parameters
    ----------
    path
        The YAML file; error messages name it as given.
    environ
        Where ``${NAME}`` references are looked up; ``os.environ`` by default.

    Returns
    -------
    Project
        The validated project.

    Raises
    ------
    ProjectFileError
        If the file cannot be read, is not valid YAML or UTF-8, references an unset
        environment variable, or does not validate. The message is one line that starts
        with the file name, e.g. ``driftline.yaml: monitors[2].min_samples: must be >= 1,
        got 0``.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProjectFileError(f"{source}: {_read_problem(exc)}", source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        raise ProjectFileError(f"{source}: {problem}", source=source) from None
    return parse_project(text, source=source, environ=environ)


def parse_project(
    text: str, *, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> Project:
    """Parse, resolve and validate the text of a project file.

    Parameters
    ----------
    text
        The YAML document.
    source
        Name used in error messages, usually the file path.
    environ
        Where ``${NAME}`` references are looked up; ``os.environ`` by default.

    Returns
    -------
    Project
        The validated project.

    Raises
    ------
    ProjectFileError
        As :func:`load_project`, except for file errors.

    Examples
    --------
    >>> project = parse_project("version: 1")
    >>> project.models
    ()
    """
    data = _parse_yaml(text, source)
    field: str | None = None
    try:
        resolved = interpolate(data, os.environ if environ is None else environ)
    except InterpolationError as exc:
        field, problem = format_path(exc.at), exc.message
    else:
        try:
            return Project.model_validate(resolved.data)
        except ValidationError as exc:
            field, problem = describe_validation_error(
                exc, resolved.data, resolved.from_environment
            )
    # Raised outside the handlers: the ValidationError may hold secret values, and must not
    # travel along as this error's __context__.
    raise ProjectFileError(f"{source}: {field}: {problem}", source=source, field=field)


def _read_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, expected a YAML file"
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied"
    return f"cannot read the file: {exc.strerror or type(exc).__name__}"


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that rejects duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # ``<<: *defaults``: explicit keys may override merged ones
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=True))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, source: str) -> dict[Any, Any]:
    problem: str
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        problem = _yaml_problem(exc, source)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = f"#x{ord(text[exc.position]):04x}"
        problem = f"{source}:{line}:{column}: invalid YAML: {exc.reason} ({code})"
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above is marked
        problem = f"{source}: invalid YAML: {' '.join(str(exc).split())}"
    else:
        if data is None:
            problem = f"{source}: the file is empty; expected a mapping with at least 'version: 1'"
        elif not isinstance(data, dict):
            kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
            problem = f"{source}: the top level must be a mapping of {_SECTIONS}; got {kind}"
        else:
            return data
    raise ProjectFileError(problem, source=source)


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = exc.problem or exc.context or "syntax error"
    if exc.problem and exc.context and exc.context_mark is not None:
        at = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        problem += f" ({exc.context} at {at})"
    return f"{where}: invalid YAML: {' '.join(problem.split())}"
