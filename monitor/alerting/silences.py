"""Label matchers and silences, with Alertmanager's semantics.

A matcher is ``name op value``: ``=`` and ``!=`` compare the label's value, ``=~`` and ``!~``
match it against a regular expression anchored at both ends (``warn`` does not match
``warning``; write ``warn.*``). A label the alert lacks has the value ``""``. Text forms, as
``amtool`` writes them: ``model=churn``, ``severity=~"warn.*"``, lists as
``{model="churn", severity!="info"}`` (braces optional). Unquoted values cannot hold spaces
or any of ``",{}=!~``. Inside double quotes, ``\\"`` is a quote and ``\\\\`` a backslash; any
other backslash is kept, so ``"\\d+"`` is the regex ``\\d+``.

A silence mutes the alerts matching *all* its matchers between ``starts_at`` and ``ends_at``:
it is ``pending`` before ``starts_at``, ``active`` until ``ends_at`` (inclusive), ``expired``
after it or once expired by hand (``expired_at``). Silenced alerts keep their state; they are
only left out of notifications.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.errors import ConfigError

__all__ = [
    "MatchOp",
    "Matcher",
    "MatcherError",
    "SilenceError",
    "SilenceState",
    "SilenceView",
    "check_silence",
    "is_silenced",
    "matches_all",
    "parse_matcher",
    "parse_matchers",
    "silenced_by",
]

MatchOp = Literal["=", "!=", "=~", "!~"]
SilenceState = Literal["pending", "active", "expired"]
_OPS: Final[tuple[MatchOp, ...]] = ("=", "!=", "=~", "!~")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MATCHER = re.compile(
    r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*
        (?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s",{}=!~]*))\s*(?:,|$)""",
    re.VERBOSE | re.DOTALL,
)


class MatcherError(ConfigError):
    """A matcher is malformed: its text, name, operator or regular expression."""


class SilenceError(ConfigError):
    """A silence cannot be created as given."""


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise MatcherError(f"invalid regular expression {pattern!r}: {exc}") from None
    return re.compile(f"(?:{pattern})", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label.

    Raises
    ------
    MatcherError
        If ``name`` is not a label name, ``op`` unknown or the regular expression invalid.
    """

    name: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if _NAME.fullmatch(self.name) is None:
            raise MatcherError(f"invalid label name {self.name!r} in a matcher")
        _as_op(self.op)
        if self.op in ("=~", "!~"):
            _compile(self.value)

    def matches_value(self, value: str) -> bool:
        """Whether a label value (``""`` for a missing label) satisfies the matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = _compile(self.value).fullmatch(value) is not None
        return found if self.op == "=~" else not found

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the labels satisfy the matcher (a missing label has the value ``""``)."""
        return self.matches_value(labels.get(self.name, ""))

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def to_dict(self) -> dict[str, str]:
        """The stored form: ``{"name", "op", "value"}``."""
        return {"name": self.name, "op": self.op, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matcher:
        """Read the stored form back; raises :class:`MatcherError` if it is not one."""
        try:
            name, op, value = data["name"], data["op"], data["value"]
        except (KeyError, TypeError):
            raise MatcherError(f"a matcher needs name, op and value, got {data!r}") from None
        if not all(isinstance(part, str) for part in (name, op, value)):
            raise MatcherError(f"a matcher's name, op and value must be strings, got {data!r}")
        return cls(name, _as_op(op), value)


def parse_matcher(text: str) -> Matcher:
    """Read one matcher from its text form.

    Raises
    ------
    MatcherError
        If ``text`` is not one matcher.

    Examples
    --------
    >>> parse_matcher('severity=~"warn.*"')
    Matcher(name='severity', op='=~', value='warn.*')
    >>> parse_matcher("model = churn")
    Matcher(name='model', op='=', value='churn')
    """
    found = parse_matchers(text)
    if len(found) != 1:
        raise MatcherError(f"expected one matcher like model=churn, got {text!r}")
    return found[0]


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Read a comma-separated list of matchers, optionally in braces.

    Raises
    ------
    MatcherError
        Naming the part that is not a matcher.

    Examples
    --------
    >>> [str(m) for m in parse_matchers('{model="churn", severity!=info}')]
    ['model="churn"', 'severity!="info"']
    """
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    position = 0
    while position < len(body):
        match = _MATCHER.match(body, position)
        if match is None or match.end() == position:
            rest = body[position:].strip()
            msg = f"invalid matcher {rest!r}: expected name=value, name!=value, name=~regex "
            msg += "or name!~regex, separated by commas; quote values with spaces or =!~,{}"
            raise MatcherError(msg)
        quoted = match["quoted"]
        value = _unquote(quoted) if quoted is not None else match["bare"]
        matchers.append(Matcher(match["name"], _as_op(match["op"]), value))
        position = match.end()
        if body[match.end() - 1 : match.end()] == "," and not body[position:].strip():
            raise MatcherError(f"trailing comma in {text!r}")
    return tuple(matchers)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether the labels satisfy every matcher."""
    return all(matcher.matches(labels) for matcher in matchers)


@dataclass(frozen=True, slots=True)
class SilenceView:
    """A stored silence, as matching needs it."""

    id: int | str
    matchers: tuple[Matcher, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    #: When it was expired by hand (None while it runs its course).
    expired_at: dt.datetime | None = None

    def state(self, now: dt.datetime) -> SilenceState:
        """``pending`` before it starts, ``active``, ``expired`` after its end (or by hand)."""
        if self.expired_at is not None and self.expired_at <= now:
            return "expired"
        if now < self.starts_at:
            return "pending"
        return "expired" if self.ends_at < now else "active"

    def mutes(self, labels: Mapping[str, str], now: dt.datetime) -> bool:
        """Whether the silence is active and the labels satisfy all its matchers."""
        return self.state(now) == "active" and matches_all(self.matchers, labels)


def check_silence(
    matchers: Sequence[Matcher], starts_at: dt.datetime, ends_at: dt.datetime
) -> None:
    """Refuse a silence that Alertmanager would refuse.

    Raises
    ------
    SilenceError
        Without matchers; when every matcher matches the empty string (it would silence
        every alert); with naive times; when it does not end after it starts.
    """
    if not matchers:
        raise SilenceError("a silence needs at least one matcher")
    if all(matcher.matches_value("") for matcher in matchers):
        shown = ", ".join(str(matcher) for matcher in matchers)
        raise SilenceError(
            f"at least one matcher must not match the empty string, or the silence would "
            f"mute every alert; got {shown}"
        )
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise SilenceError(f"{name} must include a timezone, got {moment.isoformat()}")
    if ends_at <= starts_at:
        raise SilenceError(
            f"ends_at ({ends_at.isoformat()}) must be after starts_at ({starts_at.isoformat()})"
        )


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[SilenceView], now: dt.datetime
) -> tuple[int | str, ...]:
    """The ids of the active silences muting an alert with these labels."""
    return tuple(silence.id for silence in silences if silence.mutes(labels, now))


def is_silenced(
    labels: Mapping[str, str], silences: Iterable[SilenceView], now: dt.datetime
) -> bool:
    """Whether an active silence mutes an alert with these labels."""
    return any(silence.mutes(labels, now) for silence in silences)


def _as_op(text: str) -> MatchOp:
    for op in _OPS:
        if text == op:
            return op
    raise MatcherError(f"matcher op must be one of {', '.join(_OPS)}, got {text!r}")


def _unquote(text: str) -> str:
    return re.sub(r'\\(["\\])', r"\1", text)
