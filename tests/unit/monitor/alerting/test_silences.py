"""Matchers (text forms, anchored regexes) and silences (validation, states, matching)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting.silences import (
    Matcher,
    MatcherError,
    SilenceError,
    SilenceView,
    check_silence,
    is_silenced,
    parse_matcher,
    parse_matchers,
    silenced_by,
)

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ALERT = {"alertname": "drift-high", "model": "churn", "severity": "warning", "team": "risk"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model=churn", Matcher("model", "=", "churn")),
        (" model = churn ", Matcher("model", "=", "churn")),
        ('model="churn"', Matcher("model", "=", "churn")),
        ("severity!=info", Matcher("severity", "!=", "info")),
        ('severity=~"warn.*"', Matcher("severity", "=~", "warn.*")),
        ("severity!~warn.*", Matcher("severity", "!~", "warn.*")),
        ('team=""', Matcher("team", "=", "")),
        ('note="a, \\"b\\" and \\\\"', Matcher("note", "=", 'a, "b" and \\')),
        ('model=~"\\d+"', Matcher("model", "=~", "\\d+")),
    ],
)
def test_parse_matcher(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


def test_parse_matchers_with_and_without_braces() -> None:
    expected = (Matcher("model", "=", "churn"), Matcher("severity", "=~", "warning|critical"))

    assert parse_matchers('{model="churn", severity=~"warning|critical"}') == expected
    assert parse_matchers('model=churn,severity=~"warning|critical"') == expected
    assert parse_matchers("{}") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model", "invalid matcher 'model': expected name=value"),
        ("=churn", "invalid matcher '=churn'"),
        ("1model=churn", "invalid matcher '1model=churn'"),
        ('model="churn" severity=info', "invalid matcher"),
        ("model=churn,", "trailing comma"),
        ("team=risk ops", "invalid matcher 'team=risk ops'"),
        ("severity==critical", "invalid matcher 'severity==critical'"),
        ('model=~"(unclosed"', "invalid regular expression '(unclosed'"),
        ("a=1,b=2", "expected one matcher like model=churn, got 'a=1,b=2'"),
    ],
)
def test_malformed_matchers(text: str, message: str) -> None:
    with pytest.raises(MatcherError, match=message.replace("(", r"\(")):
        parse_matcher(text)


def test_invalid_matcher_fields() -> None:
    with pytest.raises(MatcherError, match="invalid label name 'a-b'"):
        Matcher("a-b", "=", "x")
    with pytest.raises(MatcherError, match="matcher op must be one of =, !=, =~, !~, got '=='"):
        Matcher("a", "==", "x")  # type: ignore[arg-type]


def test_regexes_are_anchored() -> None:
    warn = parse_matcher('severity=~"warn"')
    partial = parse_matcher('severity=~"arn"')
    either = parse_matcher('severity=~"warning|critical"')

    assert not warn.matches({"severity": "warning"})
    assert not partial.matches({"severity": "warning"})
    assert parse_matcher('severity=~"warn.*"').matches({"severity": "warning"})
    assert either.matches({"severity": "critical"})
    assert not either.matches({"severity": "critical!"})
    assert not warn.matches({"severity": "warn\n"})  # no `$` before a trailing newline
    assert parse_matcher('severity!~"warn"').matches({"severity": "warning"})


def test_a_missing_label_is_the_empty_string() -> None:
    assert parse_matcher('zone=""').matches(ALERT)
    assert parse_matcher("zone!=eu").matches(ALERT)
    assert parse_matcher('zone=~".*"').matches(ALERT)
    assert not parse_matcher('zone=~".+"').matches(ALERT)


@given(st.text(min_size=0, max_size=10), st.sampled_from(["=", "!=", "=~", "!~"]))
def test_text_form_round_trips(value: str, op: str) -> None:
    if op in ("=~", "!~"):
        value = "".join(c for c in value if c.isalnum())  # a valid regex
    matcher = Matcher("label", op, value)  # type: ignore[arg-type]

    assert parse_matcher(str(matcher)) == matcher
    assert Matcher.from_dict(matcher.to_dict()) == matcher


def test_from_dict_rejects_other_shapes() -> None:
    with pytest.raises(MatcherError, match="a matcher needs name, op and value"):
        Matcher.from_dict({"name": "a", "value": "b"})
    with pytest.raises(MatcherError, match="must be strings"):
        Matcher.from_dict({"name": "a", "op": "=", "value": 1})


def test_silence_states() -> None:
    silence = SilenceView(1, (parse_matcher("model=churn"),), NOW, NOW + HOUR)

    assert silence.state(NOW - dt.timedelta(seconds=1)) == "pending"
    assert silence.state(NOW) == "active"
    assert silence.state(NOW + HOUR) == "active"
    assert silence.state(NOW + HOUR + dt.timedelta(microseconds=1)) == "expired"
    expired = SilenceView(1, silence.matchers, NOW, NOW + HOUR, expired_at=NOW + HOUR / 2)
    assert expired.state(NOW + HOUR / 4) == "active"
    assert expired.state(NOW + HOUR / 2) == "expired"


def test_an_active_silence_matching_all_matchers_silences() -> None:
    churn = SilenceView("a", parse_matchers('model=churn, severity=~"warn.*"'), NOW, NOW + HOUR)
    other = SilenceView("b", parse_matchers("model=churn, team=ops"), NOW, NOW + HOUR)
    later = SilenceView("c", parse_matchers("model=churn"), NOW + HOUR, NOW + 2 * HOUR)
    silences = [churn, other, later]

    assert is_silenced(ALERT, silences, NOW)
    assert silenced_by(ALERT, silences, NOW) == ("a",)
    assert silenced_by(ALERT, silences, NOW + 1.5 * HOUR) == ("c",)
    assert not is_silenced({**ALERT, "model": "credit"}, silences, NOW)
    assert not is_silenced(ALERT, silences, NOW + 3 * HOUR)
    assert not is_silenced(ALERT, [], NOW)


def test_check_silence_accepts_a_valid_one() -> None:
    check_silence(parse_matchers('zone=~".*", model=churn'), NOW, NOW + HOUR)


@pytest.mark.parametrize(
    ("matchers", "starts", "ends", "message"),
    [
        ("", NOW, NOW + HOUR, "a silence needs at least one matcher"),
        (
            'zone=~".*", team=""',
            NOW,
            NOW + HOUR,
            "at least one matcher must not match the empty string, or the silence would mute "
            'every alert; got zone=~".*", team=""',
        ),
        (
            "model=churn",
            NOW,
            NOW,
            "ends_at (2026-03-02T12:00:00+00:00) must be after starts_at "
            "(2026-03-02T12:00:00+00:00)",
        ),
        (
            "model=churn",
            NOW.replace(tzinfo=None),
            NOW + HOUR,
            "starts_at must include a timezone, got 2026-03-02T12:00:00",
        ),
    ],
)
def test_check_silence_refuses(
    matchers: str, starts: dt.datetime, ends: dt.datetime, message: str
) -> None:
    with pytest.raises(SilenceError) as info:
        check_silence(parse_matchers(matchers), starts, ends)

    assert str(info.value) == message
