"""``{{ name }}`` templates: substitution only, malformed and unknown placeholders refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting.templates import (
    PLACEHOLDERS,
    TemplateError,
    check_template,
    format_value,
    placeholders,
    placeholders_for,
    render,
)


def test_render_replaces_names_with_or_without_spaces() -> None:
    text = "{{value}} > {{ threshold }} on {{  model  }}: {{ value }}"

    assert render(text, {"value": "0.4", "threshold": "0.3", "model": "churn"}) == (
        "0.4 > 0.3 on churn: 0.4"
    )


def test_values_are_inserted_verbatim_never_evaluated() -> None:
    assert render("{{ model }}", {"model": "{{ value }}"}) == "{{ value }}"


@given(st.text().filter(lambda text: "{{" not in text))
def test_text_without_placeholders_is_unchanged(text: str) -> None:
    assert render(text, {}) == text
    assert placeholders(text) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "{{ value.real }}",
            "unsupported placeholder {{ value.real }}: only a name like {{ value }} is allowed "
            "(no attributes, filters or expressions)",
        ),
        (
            "{{ value | round }}",
            "unsupported placeholder {{ value | round }}: only a name like {{ value }} is "
            "allowed (no attributes, filters or expressions)",
        ),
        (
            "{{ }}",
            "unsupported placeholder {{ }}: only a name like {{ value }} is allowed (no "
            "attributes, filters or expressions)",
        ),
        ("ok {{ value", "'{{' at character 4 is never closed by '}}'"),
    ],
)
def test_malformed_templates(text: str, expected: str) -> None:
    with pytest.raises(TemplateError) as info:
        placeholders(text)

    assert str(info.value) == expected


def test_unknown_placeholder_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError) as info:
        check_template("Drift {{ vlaue }}", PLACEHOLDERS)

    assert str(info.value) == (
        "unknown placeholder {{ vlaue }}; placeholders: value, threshold, metric, op, rule, "
        "severity, model, monitor, window_start, window_end"
    )


def test_render_refuses_a_placeholder_without_value() -> None:
    with pytest.raises(TemplateError, match=r"no value for placeholder \{\{ model \}\}"):
        render("{{ model }}", {})


def test_feature_and_output_placeholders_only_for_their_metrics() -> None:
    assert placeholders_for("feature.age.drifted") == (*PLACEHOLDERS, "feature")
    assert placeholders_for("output.label.score") == (*PLACEHOLDERS, "output")
    assert placeholders_for("drift_share") == PLACEHOLDERS
    assert placeholders_for("feature") == PLACEHOLDERS


def test_format_value() -> None:
    assert [format_value(v) for v in (0.30000000000000004, 25000.0, 1e-12, None)] == [
        "0.3",
        "25000",
        "1e-12",
        "n/a",
    ]
