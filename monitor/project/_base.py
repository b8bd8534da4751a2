"""Building blocks shared by the project-file models: the base class, names, custom errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "ERROR_TYPE",
    "Loc",
    "Slug",
    "Spec",
    "Text",
    "check_unique",
    "spec_error",
]

ERROR_TYPE: Final = "driftline"
"""Pydantic error type of every error raised by the project-file validators."""

Loc = tuple[str | int, ...]
"""A path inside the project document: mapping keys and list indices."""

GotMode = Literal["input", "value", "none"]


def spec_error(
    message: str,
    *,
    at: Loc = (),
    got: object = None,
    got_mode: GotMode | None = None,
    redacted: str | None = None,
) -> PydanticCustomError:
    """Build the error a project-file validator raises.

    Parameters
    ----------
    message
        What was expected, without the offending value (``must be >= 10s``), or the whole
        statement when ``got_mode`` is ``"none"`` (``unknown model 'x'; declared models: y``).
    at
        Path of the offending field relative to where the validator runs; a model validator
        uses it to point at one of its fields.
    got
        The offending value when ``got_mode`` is ``"value"``.
    got_mode
        ``"input"``: report the validator's input as what was got (the default for field
        validators, ``at == ()``); ``"value"``: report ``got``; ``"none"``: report nothing (the
        default when ``at`` is given, since the input is then the whole enclosing mapping).
    redacted
        Replacement for ``message`` when the field is a secret or came from an environment
        variable, for messages that quote the value themselves.

    Returns
    -------
    pydantic_core.PydanticCustomError
        An error that :mod:`monitor.project.messages` turns into one line.
    """
    mode: GotMode = got_mode or ("input" if not at else "none")
    context: dict[str, Any] = {"message": message, "at": at, "got_mode": mode, "got": got}
    if redacted is not None:
        context["redacted"] = redacted
    return PydanticCustomError(ERROR_TYPE, "{message}", context)


_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def _check_slug(value: str) -> str:
    if _SLUG.fullmatch(value) is None:
        msg = (
            "must be 1-63 lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
        raise spec_error(msg)
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]
"""A name of a model, monitor, alert rule or channel: ``[a-z0-9][a-z0-9_.-]{0,62}``."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
"""A non-empty free-text string (feature names, class labels, metric names, ...)."""


class Spec(BaseModel):
    """Base of every project-file model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        """Name the allowed keys, and the closest one, when a key is not a field."""
        if not isinstance(data, dict):
            return data
        aliases = [field.alias or name for name, field in cls.model_fields.items()]
        accepted = set(aliases) | set(cls.model_fields)
        for key in data:
            if key in accepted:
                continue
            close = difflib.get_close_matches(str(key), aliases, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"key not allowed{hint}; allowed keys: {', '.join(aliases)}"
            raise spec_error(msg, at=(key,))
        return data


def check_unique(names: Sequence[str], at: Loc, what: str, *, field: str | None = None) -> None:
    """Raise on the second occurrence of a name in a list.

    Parameters
    ----------
    names
        The names, in list order.
    at
        Path of the list, relative to the validator's model.
    what
        What a name is, for the message (``"model name"``).
    field
        Key of the name inside each list item, when items are mappings.
    """
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            first = f"first at {_describe(at)}[{seen[name]}]"
            where = (*at, index) if field is None else (*at, index, field)
            raise spec_error(
                f"duplicate {what} {name!r}, {first}",
                at=where,
                redacted=f"duplicate {what}, {first}",
            )
        seen[name] = index


def _describe(at: Loc) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in at).lstrip(".")
