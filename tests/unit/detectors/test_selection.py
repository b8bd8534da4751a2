"""detectors.selection: the written-down rules, overrides and their errors."""

from __future__ import annotations

import pytest

from detectors.errors import InvalidInputError
from detectors.selection import ColumnInfo, select


def info(kind: str, n_reference: int, n_values: int, name: str = "c") -> ColumnInfo:
    return ColumnInfo(name, kind, n_reference, n_values)  # type: ignore[arg-type]


# Evidently 0.7.23's automatic choice (statistics reference §4.2), cell by cell.
EVIDENTLY_RULE = [
    (info("numeric", 1000, 6), "ks", 0.05),
    (info("numeric", 1000, 5), "chi2_gof", 0.05),
    (info("numeric", 1000, 3), "chi2_gof", 0.05),
    (info("numeric", 1000, 2), "z_test", 0.05),
    (info("categorical", 1000, 3), "chi2_gof", 0.05),
    (info("categorical", 1000, 2), "z_test", 0.05),
    (info("numeric", 1001, 6), "wasserstein_normed", 0.1),
    (info("numeric", 1001, 5), "jensen_shannon", 0.1),
    (info("categorical", 1001, 2), "jensen_shannon", 0.1),
    (info("categorical", 1001, 50), "jensen_shannon", 0.1),
]


@pytest.mark.parametrize(("column", "method", "threshold"), EVIDENTLY_RULE)
def test_evidently_policy_follows_its_rule(
    column: ColumnInfo, method: str, threshold: float
) -> None:
    (choice,) = select([column], policy="evidently")

    assert (choice.method, choice.threshold) == (method, threshold)


@pytest.mark.parametrize(("column", "method", "threshold"), EVIDENTLY_RULE)
def test_driftline_policy_replaces_goodness_of_fit_by_homogeneity(
    column: ColumnInfo, method: str, threshold: float
) -> None:
    (choice,) = select([column])

    assert choice.method == ("chi2" if method == "chi2_gof" else method)
    assert choice.threshold == threshold


def test_overrides_take_precedence_column_then_kind_then_all() -> None:
    columns = [
        info("numeric", 50, 40, "age"),
        info("numeric", 50, 40, "income"),
        info("categorical", 50, 3, "plan"),
    ]

    choices = select(
        columns, per_column={"age": "cvm"}, per_kind={"numeric": "anderson"}, for_all="psi"
    )

    assert [c.method for c in choices] == ["cvm", "anderson", "psi"]
    assert [c.has_p_value for c in choices] == [True, True, False]


def test_threshold_overrides() -> None:
    (choice,) = select([info("numeric", 50, 40)], thresholds={"ks": 0.01})

    assert choice.threshold == 0.01


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"policy": "nannyml"}, "policy must be one of 'driftline', 'evidently'"),
        ({"for_all": "t_test"}, "for_all: unknown test 't_test'; known tests: anderson, "),
        ({"per_kind": {"text": "ks"}}, r"per_kind: unknown kind\(s\) \['text'\]"),
        ({"per_column": {"nope": "ks"}}, r"per_column: unknown column\(s\) \['nope'\]"),
        ({"per_column": {"c": "mmd"}}, "per_column: unknown test 'mmd'"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        select([info("numeric", 50, 40)], **options)  # type: ignore[arg-type]
