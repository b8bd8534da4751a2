"""``driftline check REFERENCE CURRENT``, run as a real process on generated files.

The expected numbers come from scipy and from :func:`detectors.check.check` called on
arrays built here, independently of :mod:`monitor.frames`. Mistakes the command refuses
with one line run in this process (``driftline_in_process``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors.check import check, fit_reference
from tests.integration.test_cli import (
    Run,
    assert_ok,
    assert_user_error,
    driftline,
    driftline_in_process,
)

pytestmark = pytest.mark.integration

N = 600
NUMERIC = ["monthly_income_eur", "age"]
CATEGORICAL = ["customer_segment", "country"]
HTML_TIMEOUT_SECONDS = 180


def frames(seed: int, *, drift: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two numeric and two categorical columns; with ``drift``, age and country move."""
    rng = np.random.default_rng(seed)

    def frame(age_shift: float, country_p: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "monthly_income_eur": rng.lognormal(8, 0.5, N),
                "age": rng.normal(40 + age_shift, 10, N),
                "customer_segment": rng.choice(["retail", "sme", "corporate"], N),
                "country": rng.choice(["fr", "de", "it", "es"], N, p=country_p),
            }
        )

    even = [0.25, 0.25, 0.25, 0.25]
    return frame(0, even), frame(8 if drift else 0, [0.7, 0.1, 0.1, 0.1] if drift else even)


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.name.endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def pair(
    directory: Path, reference: pd.DataFrame, current: pd.DataFrame, suffix: str = ".csv"
) -> tuple[str, str]:
    write(reference, directory / f"reference{suffix}")
    write(current, directory / f"current{suffix}")
    return f"reference{suffix}", f"current{suffix}"


def refused(directory: Path, *args: str) -> str:
    """The one error line of ``driftline check`` run in this process."""
    return assert_user_error(driftline_in_process(directory, "check", *args))


def as_json(run: Run, expected_status: int | None = None) -> dict[str, Any]:
    """The JSON document on stdout; the exit status is the dataset verdict (or as given)."""
    assert run.stderr == "", run.transcript
    assert run.returncode in (0, 1), run.transcript
    document: dict[str, Any] = json.loads(run.stdout)
    assert run.returncode == int(document["dataset_drift"]), run.transcript
    if expected_status is not None:
        assert run.returncode == expected_status, run.transcript
    return document


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {column["name"]: column for column in document["columns"]}


def shared_codes(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    categories = pd.Index(sorted(set(reference.dropna()) | set(current.dropna())))
    return (
        categories.get_indexer(reference).astype(np.float64),
        categories.get_indexer(current).astype(np.float64),
    )


def direct_check(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """The detectors called on arrays built here, for comparison with the command."""
    coded = [shared_codes(reference[name], current[name]) for name in CATEGORICAL]
    fitted = fit_reference(
        reference[NUMERIC].to_numpy(),
        np.column_stack([r for r, _ in coded]),
        numeric_names=NUMERIC,
        categorical_names=CATEGORICAL,
    )
    report = check(fitted, current[NUMERIC].to_numpy(), np.column_stack([c for _, c in coded]))
    return {column.name: column for column in report.columns} | {"_report": report}


# --- verdicts and numbers ---------------------------------------------------------------------


def test_same_distribution_is_no_drift(tmp_path: Path) -> None:
    reference, current = frames(11, drift=False)

    run = driftline(tmp_path, "check", *pair(tmp_path, reference, current))

    assert_ok(run)
    assert "no dataset drift" in run.stdout, run.transcript


def test_clear_drift_exits_1_and_flags_the_drifted_columns(tmp_path: Path) -> None:
    reference, current = frames(12, drift=True)

    run = driftline(tmp_path, "check", *pair(tmp_path, reference, current), "--format", "json")

    document = as_json(run, 1)
    assert document["dataset_drift"] is True
    assert {c["name"] for c in document["columns"] if c["drift"]} == {"age", "country"}


@pytest.mark.parametrize(
    ("reference_suffix", "current_suffix"),
    [(".csv", ".parquet"), (".pq", ".csv.gz")],  # each format once, each family on each side
)
def test_json_agrees_with_scipy_and_the_detectors(
    tmp_path: Path, reference_suffix: str, current_suffix: str
) -> None:
    reference, current = frames(13, drift=True)
    files = (f"reference{reference_suffix}", f"current{current_suffix}")
    write(reference, tmp_path / files[0])
    write(current, tmp_path / files[1])
    # What the command sees after the CSV round trip.
    if reference_suffix.startswith(".csv"):
        reference = pd.read_csv(tmp_path / files[0])
    if current_suffix.startswith(".csv"):
        current = pd.read_csv(tmp_path / files[1])

    document = as_json(driftline(tmp_path, "check", *files, "--format", "json"), 1)

    columns = by_name(document)
    expected = direct_check(reference, current)
    ks = stats.ks_2samp(reference["age"], current["age"])
    assert columns["age"]["test"] == "ks"
    assert columns["age"]["p_value"] == pytest.approx(ks.pvalue, rel=1e-12, abs=1e-300)
    assert columns["age"]["statistic"] == pytest.approx(ks.statistic, rel=1e-12)
    for name in NUMERIC + CATEGORICAL:
        ours, theirs = columns[name], expected[name]
        assert ours["kind"] == theirs.kind, name
        assert ours["test"] == theirs.method, name
        assert ours["p_value"] == pytest.approx(theirs.p_value, rel=1e-12, abs=1e-300), name
        assert ours["adjusted_p_value"] == pytest.approx(theirs.adjusted_p_value, rel=1e-12), name
        assert ours["drift"] == theirs.drifted, name
        assert (ours["n_reference"], ours["n_current"]) == (N, N), name
    report = expected["_report"]
    assert document["drift_share"] == pytest.approx(report.drift_share)
    assert document["dataset_drift"] == report.dataset_drift
    assert document["rows"] == {"reference": N, "current": N}
    assert (document["reference"], document["current"]) == files
    assert (document["policy"], document["correction"]) == ("driftline", "bh")
    assert document["share_threshold"] == 0.5


def test_json_schema_and_quality_findings(tmp_path: Path) -> None:
    reference, current = frames(14, drift=False)
    reference["legacy_score"] = 1.0
    current["channel"] = "web"
    reference["zip_code"] = np.arange(N)
    current["zip_code"] = [f"z{i}" for i in range(N)]
    current.loc[:29, "monthly_income_eur"] = np.nan
    current.loc[30, "monthly_income_eur"] = np.inf
    current.loc[:59, "country"] = "pt"  # a category the reference never had
    reference["notes"] = current["notes"] = "the customer called about a late delivery again " * 2

    document = as_json(
        driftline(
            tmp_path, "check", *pair(tmp_path, reference, current, ".parquet"), "--format", "json"
        ),
    )

    columns = by_name(document)
    assert set(columns) == set(NUMERIC + CATEGORICAL)
    assert set(columns["age"]) == {
        "name", "kind", "test", "statistic", "p_value", "adjusted_p_value", "threshold",
        "drift", "effect", "n_reference", "n_current", "missing_share_current", "unseen_share",
    }  # fmt: skip
    income = columns["monthly_income_eur"]
    assert income["missing_share_current"] == pytest.approx(30 / N)
    assert income["n_current"] == N - 31  # the infinity is tested as missing
    assert income["unseen_share"] is None
    assert columns["country"]["unseen_share"] == pytest.approx(60 / N)
    assert columns["customer_segment"]["unseen_share"] == 0.0
    assert columns["country"]["drift"] is True
    quality = document["quality"]
    assert quality["columns"]["monthly_income_eur"]["infinite_current"] == 1
    assert quality["missing_in_current"] == ["legacy_score"]
    assert quality["added_in_current"] == ["channel"]
    assert quality["type_changed"] == [
        {"name": "zip_code", "reference": "numeric", "current": "categorical"}
    ]
    assert [s["name"] for s in quality["skipped"]] == ["notes"]
    assert "text" in quality["skipped"][0]["reason"]
    assert "--text notes" in quality["skipped"][0]["reason"]
    # the opt-in sections are there, empty, and the overall verdict is the dataset's
    assert document["multivariate"] is None
    assert document["text"] == []
    assert document["drift"] is document["dataset_drift"]


def test_categories_are_coded_the_same_whatever_their_order_in_each_file(tmp_path: Path) -> None:
    reference, current = frames(15, drift=False)
    current = current.sort_values("country", ascending=False, ignore_index=True)
    current.loc[:49, "customer_segment"] = "startup"

    document = as_json(
        driftline(tmp_path, "check", *pair(tmp_path, reference, current), "--format", "json"), 0
    )

    columns = by_name(document)
    expected = direct_check(reference, current)
    for name in CATEGORICAL:
        assert columns[name]["p_value"] == pytest.approx(expected[name].p_value, rel=1e-12)
    assert columns["country"]["drift"] is False  # same shares, other row order
    assert columns["customer_segment"]["unseen_share"] == pytest.approx(50 / N)


def test_forced_kinds(tmp_path: Path) -> None:
    reference, current = frames(16, drift=False)
    rng = np.random.default_rng(16)
    reference["store_id"] = rng.integers(1, 8, N)
    current["store_id"] = rng.integers(1, 8, N)
    files = pair(tmp_path, reference, current)

    default = by_name(as_json(driftline(tmp_path, "check", *files, "--format", "json"), 0))
    forced = by_name(
        as_json(
            driftline(tmp_path, "check", *files, "--format", "json", "--categorical", "store_id"),
            0,
        )
    )

    assert default["store_id"]["kind"] == "numeric"
    assert forced["store_id"]["kind"] == "categorical"
    line = refused(tmp_path, *files, "--numeric", "customer_segment")
    assert "customer_segment" in line
    assert "not numeric" in line


def test_columns_restricts_the_check(tmp_path: Path) -> None:
    reference, current = frames(17, drift=True)
    reference["legacy_score"] = 1.0
    files = pair(tmp_path, reference, current)

    run = driftline(tmp_path, "check", *files, "--format", "json", "--columns", "age, country")

    document = as_json(run, 1)
    assert [c["name"] for c in document["columns"]] == ["age", "country"]
    assert document["quality"]["missing_in_current"] == []


def test_sample_limit_tests_a_sample_and_reports_every_row(tmp_path: Path) -> None:
    reference, current = frames(18, drift=True)
    current.loc[: N // 10 - 1, "age"] = np.nan
    files = pair(tmp_path, reference, current)

    run = driftline(tmp_path, "check", *files, "--format", "json", "--sample-limit", "300")

    document = as_json(run, 1)
    columns = by_name(document)
    assert columns["monthly_income_eur"]["n_reference"] == 300
    assert columns["monthly_income_eur"]["n_current"] == 300
    assert columns["age"]["missing_share_current"] == pytest.approx(0.1)
    assert columns["age"]["drift"]
    line = refused(tmp_path, *files, "--sample-limit", "0")
    assert "--sample-limit must be a positive number of rows, got 0" in line


@pytest.mark.parametrize(
    ("drift", "status"), [pytest.param(False, 0, id="no-drift"), pytest.param(True, 1, id="drift")]
)
def test_html_writes_evidentlys_report(tmp_path: Path, drift: bool, status: int) -> None:
    reference, current = frames(18, drift=drift)
    files = pair(tmp_path, reference, current)
    args = ("--output", "report.html") if drift else ()

    run = driftline(
        tmp_path, "check", *files, "--format", "html", *args, timeout=HTML_TIMEOUT_SECONDS
    )

    assert run.returncode == status, run.transcript
    assert run.stderr == "", run.transcript
    written = tmp_path / ("report.html" if drift else "drift-report.html")
    assert written.name in run.stdout, run.transcript
    assert "<html" in written.read_text(encoding="utf-8")


# --- opt-in sections: all columns together, text columns -------------------------------------


SECTION_KEYS = {
    "test", "statistic", "p_value", "threshold", "effect", "min_effect", "ci", "confidence",
    "drift", "n_reference", "n_current", "top_features",
}  # fmt: skip


def correlation_frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Columns a, b correlated 0.9 in the reference, independent in current (same marginals)."""
    rng = np.random.default_rng(seed)

    def frame(rho: float) -> pd.DataFrame:
        a, noise = rng.normal(size=(2, N))
        return pd.DataFrame(
            {
                "a": a,
                "b": rho * a + np.sqrt(1 - rho**2) * noise,
                "segment": rng.choice(["retail", "sme"], N),
            }
        )

    return frame(0.9), frame(0.0)


def test_multivariate_finds_a_change_no_column_shows(tmp_path: Path) -> None:
    files = pair(tmp_path, *correlation_frames(21))

    run = driftline(tmp_path, "check", *files, "--format", "json", "--multivariate")
    table = driftline(tmp_path, "check", *files, "--multivariate")

    assert run.stderr == "", run.transcript
    assert run.returncode == 1, run.transcript
    document = json.loads(run.stdout)
    assert not any(c["drift"] for c in document["columns"])
    assert document["dataset_drift"] is False
    assert document["drift"] is True
    section = document["multivariate"]
    assert set(section) == SECTION_KEYS
    assert section["test"] == "domain_classifier"
    assert section["drift"] is True
    assert section["ci"][0] > 0.5
    assert section["p_value"] <= 0.05  # small files: an exact relabelling p (19 relabellings)
    assert section["confidence"] == 0.95
    assert (section["n_reference"], section["n_current"]) == (N, N)
    assert {f["name"] for f in section["top_features"]} == {"a", "b", "segment"}
    assert {f["name"] for f in section["top_features"][:2]} == {"a", "b"}
    assert table.returncode == 1, table.transcript
    assert "no dataset drift" in table.stdout, table.transcript
    assert "multivariate: classifier AUC 0." in table.stdout, table.transcript
    assert max(len(line) for line in table.stdout.splitlines()) <= 80, table.transcript
    assert "overall: drift" in table.stdout, table.transcript


def test_named_text_columns_get_the_text_drift_test(tmp_path: Path) -> None:
    reference, current = frames(22, drift=False)
    rng = np.random.default_rng(22)
    words = ["the", "parcel", "arrived", "late", "again", "and", "support", "was", "kind"]
    new = ["refund", "broken", "screen", "never"]
    reference["notes"] = [" ".join(rng.choice(words, 12)) for _ in range(N)]
    current["notes"] = [" ".join(rng.choice(words[:5] + new, 12)) for _ in range(N)]
    current.loc[:9, "notes"] = None
    files = pair(tmp_path, reference, current)

    run = driftline(tmp_path, "check", *files, "--format", "json", "--text", "notes")
    table = driftline(tmp_path, "check", *files, "--text", "notes")

    assert run.stderr == "", run.transcript
    assert run.returncode == 1, run.transcript
    document = json.loads(run.stdout)
    assert set(by_name(document)) == set(NUMERIC + CATEGORICAL)
    assert document["quality"]["skipped"] == []
    assert document["dataset_drift"] is False
    (notes,) = document["text"]
    assert set(notes) == SECTION_KEYS | {"name"}
    assert (notes["name"], notes["test"], notes["drift"]) == ("notes", "mmd", True)
    assert notes["top_features"][0]["name"] == "oov_share"
    assert notes["top_features"][0]["reference"] == 0.0
    assert document["drift"] is True
    assert table.returncode == 1, table.transcript
    assert "text notes: MMD²" in table.stdout, table.transcript
    assert "oov_share: 0 →" in table.stdout, table.transcript


def test_text_option_errors(tmp_path: Path) -> None:
    files = pair(tmp_path, *frames(23, drift=False))

    line = refused(tmp_path, *files, "--text", "nope")
    assert "--text: column 'nope' is not in reference.csv" in line
    line = refused(tmp_path, *files, "--text", "country", "--categorical", "country")
    assert "cannot be both --text and --categorical/--numeric" in line


# --- the table --------------------------------------------------------------------------------


def test_table_is_readable_on_an_80_column_terminal(tmp_path: Path) -> None:
    reference, current = frames(19, drift=True)
    reference["legacy_score"] = 1.0
    reference["notes"] = current["notes"] = "the customer called about a late delivery again " * 2
    files = pair(tmp_path, reference, current)

    run = driftline(tmp_path, "check", *files, env={"COLUMNS": "80"})

    assert run.returncode == 1, run.transcript
    assert run.stderr == "", run.transcript
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, run.transcript
    for name in NUMERIC + CATEGORICAL:
        assert any(line.startswith(f"{name} ") for line in lines), (name, run.transcript)
    for header in ("column", "kind", "test", "statistic", "p-value", "threshold", "drift"):
        assert header in lines[2], run.transcript
    drifted = [line.split()[0] for line in lines if line.rstrip().endswith(" yes")]
    assert drifted == ["country", "age"] or drifted == ["age", "country"], run.transcript
    assert lines.index(next(x for x in lines if x.startswith("age "))) < lines.index(
        next(x for x in lines if x.startswith("customer_segment "))
    ), run.transcript  # drifted columns first
    assert "dataset drift" in run.stdout, run.transcript
    assert "legacy_score: missing in current" in run.stdout, run.transcript
    assert "notes: skipped, text column" in run.stdout, run.transcript


# --- user errors ------------------------------------------------------------------------------


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    reference, current = frames(20, drift=False)
    files = pair(tmp_path, reference, current)
    (tmp_path / "data.txt").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "malformed.csv").write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")

    cases = {
        ("--columns", "age,salary"): ["salary", "available", "age", "country"],
        ("--format", "xml"): ["--format", "xml"],
    }
    for options, expected in cases.items():
        line = refused(tmp_path, *files, *options)
        for word in expected:
            assert word in line, line
    for name, expected in [
        ("data.txt", [".csv", ".parquet"]),
        ("absent.csv", ["not found"]),
        ("malformed.csv", ["malformed", "line 3"]),
        ("empty.csv", ["empty"]),
        ("broken.parquet", ["Parquet"]),
    ]:
        line = refused(tmp_path, name, files[1])
        assert line.startswith(f"error: {name}: "), line
        for word in expected:
            assert word in line, line
