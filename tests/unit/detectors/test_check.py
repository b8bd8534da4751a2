"""detectors.check: selection, grouping, decisions and findings of a whole drift check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detectors.check import check, fit_reference
from detectors.errors import InvalidInputError
from detectors.univariate import ks
from tests.unit.detectors.multivariate.samples import correlation_break


@pytest.fixture
def frames(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 600
    return {
        "ref_num": np.column_stack(
            [rng.normal(size=n), rng.normal(size=n), rng.integers(0, 3, n).astype(float)]
        ),
        "cur_num": np.column_stack(
            [rng.normal(1.0, size=n), rng.normal(size=n), rng.integers(0, 3, n).astype(float)]
        ),
        "ref_cat": rng.integers(10, 14, (n, 1)).astype(float),
        "cur_cat": rng.choice([10.0, 11.0, 12.0, 13.0], (n, 1), p=[0.7, 0.1, 0.1, 0.1]),
    }


NAMES = {"numeric_names": ["shifted", "stable", "few"], "categorical_names": ["plan"]}


def test_small_reference_uses_tests_and_equals_direct_calls(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    report = check(fitted, frames["cur_num"], frames["cur_cat"], correction="none")

    by_name = {c.name: c for c in report.columns}
    assert [c.method for c in report.columns] == ["ks", "ks", "chi2", "chi2"]
    direct = ks.test(frames["ref_num"][:, :2], frames["cur_num"][:, :2])
    assert by_name["shifted"].p_value == direct.p_value[0]  # type: ignore[index]
    assert by_name["stable"].statistic == direct.statistic[1]
    # The few-valued numeric column is compared as categories of its values.
    table = np.array(
        [np.bincount(frames[k][:, 2].astype(int), minlength=3) for k in ("ref_num", "cur_num")]
    )
    expected = stats.chi2_contingency(table, correction=False)
    assert by_name["few"].p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert by_name["shifted"].drifted
    assert by_name["plan"].drifted
    assert not by_name["stable"].drifted
    assert report.drift_share == 0.5
    assert report.dataset_drift


def test_large_reference_uses_distances(rng: np.random.Generator) -> None:
    reference = rng.normal(size=(3000, 2))
    current = rng.normal(size=(3000, 2)) + np.array([0.0, 0.5])
    fitted = fit_reference(reference, numeric_names=["a", "b"])

    report = check(fitted, current)

    assert [c.method for c in report.columns] == ["wasserstein_normed"] * 2
    assert [c.drifted for c in report.columns] == [False, True]
    assert all(c.p_value is None for c in report.columns)


def test_correction_across_the_check(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    plain = check(fitted, frames["cur_num"], frames["cur_cat"], correction="none")
    bonferroni = check(fitted, frames["cur_num"], frames["cur_cat"], correction="bonferroni")

    for a, b in zip(plain.columns, bonferroni.columns, strict=True):
        assert b.adjusted_p_value == pytest.approx(min(1.0, 4 * a.p_value))  # type: ignore[operator]


def test_overrides_gates_and_weights(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    report = check(
        fitted,
        frames["cur_num"],
        frames["cur_cat"],
        per_column={"stable": "psi"},
        per_kind={"categorical": "jensen_shannon"},
        min_effect={"ks": 0.9},
        weights={"plan": 3.0},
    )

    by_name = {c.name: c for c in report.columns}
    assert by_name["stable"].method == "psi"
    assert by_name["plan"].method == "jensen_shannon"
    assert not by_name["shifted"].drifted  # significant, but D < 0.9
    assert by_name["plan"].drifted
    assert report.drift_share == pytest.approx(3 / 6)


def test_infinities_are_reported_then_missing(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)
    current = frames["cur_num"].copy()
    current[:5, 1] = np.inf

    report = check(fitted, current, frames["cur_cat"])

    assert report.quality.infinite_current.tolist() == [0, 5, 0, 0]
    assert report.columns[1].n_current == len(current) - 5


def test_an_empty_current_column_has_no_verdict(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)
    current = frames["cur_num"].copy()
    current[:, 0] = np.nan

    report = check(fitted, current, frames["cur_cat"])

    assert np.isnan(report.columns[0].effect)
    assert not report.columns[0].drifted
    assert report.quality.missing_current[0] == 1.0
    assert report.drift_share == pytest.approx(1 / 3)  # plan of three columns with a result


def test_unseen_categories_are_reported(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)
    current = frames["cur_cat"].copy()
    current[:60, 0] = 99.0

    report = check(fitted, frames["cur_num"], current)

    assert report.columns[3].unseen_share == pytest.approx(0.1)
    assert report.columns[0].unseen_share is None


def test_column_order_and_row_order_do_not_change_results(
    frames: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)
    base = check(fitted, frames["cur_num"], frames["cur_cat"])
    order = [2, 0, 1]
    swapped = fit_reference(
        frames["ref_num"][:, order],
        frames["ref_cat"],
        numeric_names=[NAMES["numeric_names"][i] for i in order],
        categorical_names=NAMES["categorical_names"],
    )
    rows = rng.permutation(len(frames["cur_num"]))

    other = check(swapped, frames["cur_num"][rows][:, order], frames["cur_cat"][rows])

    expected = {c.name: (c.method, c.statistic, c.p_value, c.drifted) for c in base.columns}
    assert {c.name: (c.method, c.statistic, c.p_value, c.drifted) for c in other.columns} == (
        expected
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_kind": {"categorical": "ks"}}, "column 'plan' is categorical but ks compares"),
        ({"weights": {"nope": 1.0}}, r"weights: unknown column\(s\) \['nope'\]"),
        ({"weights": {"plan": -1.0}}, "weights: 'plan' must be a non-negative number"),
    ],
)
def test_bad_options_are_named(
    frames: dict[str, np.ndarray], options: dict[str, object], message: str
) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    with pytest.raises(InvalidInputError, match=message):
        check(fitted, frames["cur_num"], frames["cur_cat"], **options)  # type: ignore[arg-type]


def test_shapes_and_names_are_checked(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    with pytest.raises(InvalidInputError, match=r"current numeric: expected 3 column\(s\)"):
        check(fitted, frames["cur_num"][:, :2], frames["cur_cat"])
    with pytest.raises(InvalidInputError, match="numeric has 600 rows but categorical 10"):
        check(fitted, frames["cur_num"], frames["cur_cat"][:10])
    with pytest.raises(InvalidInputError, match="at least one column"):
        fit_reference()
    with pytest.raises(InvalidInputError, match="unique"):
        fit_reference(frames["ref_num"][:, :1], frames["ref_cat"], numeric_names=["a"],
                      categorical_names=["a"])  # fmt: skip


def test_sample_limit_tests_a_reproducible_sample_and_keeps_full_quality(
    rng: np.random.Generator,
) -> None:
    reference = rng.normal(size=(5000, 2))
    current = rng.normal(size=(4000, 2)) + np.array([0.0, 0.5])
    current[:400, 0] = np.nan
    fitted = fit_reference(reference, numeric_names=["a", "b"], sample_limit=1000)

    first = check(fitted, current, sample_limit=800, seed=9)
    again = check(fitted, current, sample_limit=800, seed=9)
    other = check(fitted, current, sample_limit=800, seed=8)

    assert [c.n_reference for c in first.columns] == [1000, 1000]
    assert first.columns[1].n_current == 800
    assert first.columns[0].n_current < 800  # NaN rows of the sample are dropped
    assert first.quality.missing_current.tolist() == [0.1, 0.0]  # every row counts
    assert first.columns == again.columns
    assert first.columns[1].statistic != other.columns[1].statistic
    assert [c.drifted for c in first.columns] == [False, True]
    with pytest.raises(InvalidInputError, match="sample_limit must be a positive"):
        check(fitted, current, sample_limit=0)


# --- opt-in sections: all columns together, text columns --------------------------------------


def test_sections_are_off_by_default(frames: dict[str, np.ndarray]) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES)

    report = check(fitted, frames["cur_num"], frames["cur_cat"])

    assert fitted.domain is None
    assert report.multivariate is None
    assert report.text == ()
    assert report.drift == report.dataset_drift


def test_multivariate_finds_a_correlation_break_no_column_shows() -> None:
    reference, current = correlation_break(11, 600, 600)
    fitted = fit_reference(reference, numeric_names=["a", "b"], multivariate=True)

    report = check(fitted, current)

    assert not any(c.drifted for c in report.columns)
    assert not report.dataset_drift
    assert report.multivariate is not None
    assert report.multivariate.method == "domain_classifier"
    assert report.multivariate.drift
    assert {f.name for f in report.multivariate.features} == {"a", "b"}
    assert report.drift


def test_multivariate_covers_numeric_and_categorical_columns(
    frames: dict[str, np.ndarray],
) -> None:
    fitted = fit_reference(frames["ref_num"], frames["ref_cat"], **NAMES, multivariate=True)

    report = check(fitted, frames["cur_num"], frames["cur_cat"], seed=3)

    section = report.multivariate
    assert section is not None
    assert (section.n_reference, section.n_current) == (600, 600)
    assert {f.name for f in section.features} == {"shifted", "stable", "few", "plan"}
    assert section.features[0].name in {"shifted", "plan"}
    assert section.drift
    again = check(fitted, frames["cur_num"], frames["cur_cat"], seed=3).multivariate
    assert again == section


def test_text_columns_are_tested_apart(frames: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(8)
    words = ["order", "late", "parcel", "thanks", "great", "box", "shipping", "fast"]
    ref_docs = [" ".join(rng.choice(words, 8)) for _ in range(300)]
    cur_docs = [" ".join(rng.choice([*words[:4], "refund", "broken"], 8)) for _ in range(300)]
    fitted = fit_reference(frames["ref_num"], numeric_names=["a", "b", "c"],
                           text={"review": ref_docs})  # fmt: skip

    report = check(fitted, frames["ref_num"], text={"review": cur_docs})

    assert not report.dataset_drift  # the numeric columns are the reference's own
    (review,) = report.text
    assert review.name == "review"
    assert review.result.drift
    assert review.result.features[0].name == "oov_share"
    assert report.drift
    with pytest.raises(InvalidInputError, match=r"text: expected documents of .*\['review'\]"):
        check(fitted, frames["ref_num"])
    with pytest.raises(InvalidInputError, match="unique across numeric, categorical and text"):
        fit_reference(frames["ref_num"], numeric_names=["a", "b", "review"],
                      text={"review": ref_docs})  # fmt: skip


# -- a small window against a large reference ------------------------------------------------


def false_alarm_rate(policy: str, *, n_current: int, trials: int = 200) -> float:
    """Share of unchanged windows whose one numeric column is flagged."""
    rng = np.random.default_rng(42)
    fitted = fit_reference(rng.normal(size=(5_000, 1)), numeric_names=["x"])
    flagged = 0
    for _ in range(trials):
        report = check(fitted, rng.normal(size=(n_current, 1)), policy=policy, correction="none")  # type: ignore[arg-type]
        flagged += report.columns[0].drifted
    return flagged / trials


def test_a_small_window_against_a_large_reference_keeps_the_nominal_false_alarm_rate() -> None:
    """Evidently's fixed distance threshold ignores sampling noise: an unchanged 100-row
    window against a 5,000-row reference crosses it most of the time. Driftline's policy
    tests such a window with KS at level 0.05."""
    driftline = false_alarm_rate("driftline", n_current=100)
    evidently = false_alarm_rate("evidently", n_current=100)

    assert driftline <= 0.1, driftline
    assert evidently >= 0.4, evidently


def test_a_large_window_still_gets_the_distance() -> None:
    rng = np.random.default_rng(0)
    fitted = fit_reference(rng.normal(size=(5_000, 1)), numeric_names=["x"])

    small = check(fitted, rng.normal(size=(1_000, 1)))
    large = check(fitted, rng.normal(size=(1_001, 1)))

    assert small.columns[0].method == "ks"
    assert large.columns[0].method == "wasserstein_normed"
