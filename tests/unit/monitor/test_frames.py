"""Data files into detector arrays: kinds, shared category codes, column findings, reading."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.errors import ConfigError, DataFileError
from monitor.frames import (
    Skipped,
    TypeChange,
    category_labels,
    code_categories,
    encode,
    infer_kind,
    numeric_values,
    plan_columns,
    read_frame,
    report_frame,
)

LONG_TEXT = "the parcel arrived late and the box was damaged on one side, again"


# --- kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "kind"),
    [
        pytest.param(pd.Series([1, 2, 3]), "numeric", id="int"),
        pytest.param(pd.Series([1.5, np.nan, np.inf]), "numeric", id="float"),
        pytest.param(pd.Series([1, None], dtype="Int64"), "numeric", id="nullable-int"),
        pytest.param(pd.Series([True, False]), "categorical", id="bool"),
        pytest.param(pd.Series(["a", "b", None]), "categorical", id="object"),
        pytest.param(pd.Series(["a", "b"], dtype="string"), "categorical", id="string"),
        pytest.param(pd.Series(["a", "b"], dtype="category"), "categorical", id="category"),
        pytest.param(pd.Series([LONG_TEXT, LONG_TEXT + " twice"]), "text", id="text"),
        pytest.param(pd.Series(["x" * 80, "y" * 80]), "categorical", id="long-without-spaces"),
        pytest.param(pd.Series(["short one", "two words"]), "categorical", id="short-with-spaces"),
        pytest.param(pd.Series([np.nan, np.nan]), "empty", id="all-missing"),
        pytest.param(pd.Series(pd.to_datetime(["2026-01-01"])), "unsupported", id="datetime"),
    ],
)
def test_infer_kind(series: pd.Series, kind: str) -> None:
    assert infer_kind(series) == kind


# --- values and codes -------------------------------------------------------------------------


def test_numeric_values_keep_infinities_and_turn_missing_into_nan() -> None:
    values = numeric_values(pd.Series([1, None, 3], dtype="Int64"))
    floats = numeric_values(pd.Series([np.inf, -np.inf, np.nan]))
    flags = numeric_values(pd.Series([True, False]))

    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(floats, [np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(flags, [1.0, 0.0])


def test_numeric_values_of_strings_parse_or_name_the_bad_value() -> None:
    np.testing.assert_array_equal(numeric_values(pd.Series(["1", "2.5", None])), [1, 2.5, np.nan])
    with pytest.raises(DataFileError, match=r"cur\.csv: column 'id' is not numeric: found 'x7'"):
        numeric_values(pd.Series(["1", "x7"], name="id"), source="cur.csv")


def test_category_labels_read_whole_floats_as_integers() -> None:
    ints = category_labels(pd.Series([1, 2, 3]))
    floats = category_labels(pd.Series([1.0, np.nan, 3.0, 2.5]))
    flags = category_labels(pd.Series([True, None, False]))

    assert ints.tolist() == ["1", "2", "3"]
    assert floats.tolist() == ["1", None, "3", "2.5"]
    assert flags.tolist() == ["True", None, "False"]


def test_codes_come_from_one_mapping_over_both_files() -> None:
    reference = np.array(["b", "a", None, "b"], dtype=object)
    current = np.array(["c", "b", "a", None], dtype=object)

    ref, cur, categories = code_categories(reference, current)

    assert categories.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(ref, [1.0, 0.0, np.nan, 1.0])
    np.testing.assert_array_equal(cur, [2.0, 1.0, 0.0, np.nan])
    for codes, labels in ((ref, reference), (cur, current)):
        present = ~np.isnan(codes)
        assert categories[codes[present].astype(int)].tolist() == labels[present].tolist()


def test_encode_gives_detector_blocks() -> None:
    reference = pd.DataFrame({"x": [1.0, np.inf], "c": ["u", "v"], "ignored": [0, 0]})
    current = pd.DataFrame({"x": [np.nan, 2.0, 3.0], "c": ["w", "u", None], "ignored": [1, 1, 1]})
    plan = plan_columns(reference, current, columns=["x", "c"])

    ref, cur, categories = encode(reference, current, plan)

    assert (ref.numeric.shape, ref.categorical.shape) == ((2, 1), (2, 1))
    assert (cur.numeric.shape, cur.categorical.shape) == ((3, 1), (3, 1))
    np.testing.assert_array_equal(ref.numeric[:, 0], [1.0, np.inf])
    np.testing.assert_array_equal(cur.categorical[:, 0], [2.0, 0.0, np.nan])
    assert [c.tolist() for c in categories] == [["u", "v", "w"]]
    frame = report_frame(reference, plan)
    assert list(frame.columns) == ["x", "c"]
    assert np.isnan(frame["x"].iloc[1])  # a report gets infinities as missing


# --- plans ------------------------------------------------------------------------------------


def test_plan_reports_missing_added_type_changed_and_text_columns() -> None:
    reference = pd.DataFrame(
        {
            "age": [30, 40],
            "plan": ["a", "b"],
            "legacy": [1.0, 2.0],
            "zip": [75001, 69002],
            "note": [LONG_TEXT, LONG_TEXT],
            "seen": pd.to_datetime(["2026-01-01", "2026-01-02"]),
        }
    )
    current = pd.DataFrame(
        {
            "age": [31, 41],
            "plan": ["b", "c"],
            "zip": ["75001", "X-2"],
            "note": [LONG_TEXT, LONG_TEXT],
            "seen": pd.to_datetime(["2026-02-01", "2026-02-02"]),
            "channel": ["web", "app"],
        }
    )

    plan = plan_columns(reference, current)

    assert plan.numeric == ("age",)
    assert plan.categorical == ("plan",)
    assert plan.missing_in_current == ("legacy",)
    assert plan.added_in_current == ("channel",)
    assert plan.type_changed == (TypeChange("zip", "numeric", "categorical"),)
    assert [s.name for s in plan.skipped] == ["note", "seen"]
    assert "text" in plan.skipped[0].reason
    assert plan.skipped[1] == Skipped("seen", "unsupported type (datetime64[ns] / datetime64[ns])")


def test_a_column_empty_on_one_side_takes_the_other_sides_kind() -> None:
    reference = pd.DataFrame({"plan": ["a", "b"], "x": [np.nan, np.nan]})
    current = pd.DataFrame({"plan": [np.nan, np.nan], "x": [1.0, 2.0]})

    plan = plan_columns(reference, current)

    assert (plan.numeric, plan.categorical, plan.type_changed) == (("x",), ("plan",), ())


def test_forced_kinds_override_inference_and_type_changes() -> None:
    reference = pd.DataFrame({"store": [1, 2], "zip": [75001, 69002], "v": [1.0, 2.0]})
    current = pd.DataFrame({"store": [2, 3], "zip": ["75001", "X-2"], "v": [1.0, 3.0]})

    plan = plan_columns(reference, current, categorical=["store", "zip"])

    assert plan.numeric == ("v",)
    assert plan.categorical == ("store", "zip")
    assert plan.type_changed == ()


def test_columns_restricts_every_list() -> None:
    reference = pd.DataFrame({"a": [1.0], "b": [2.0], "gone": [3.0]})
    current = pd.DataFrame({"a": [1.0], "b": [2.0], "new": [3.0]})

    plan = plan_columns(reference, current, columns=["b", "new"])

    assert (plan.numeric, plan.missing_in_current, plan.added_in_current) == (
        ("b",),
        (),
        ("new",),
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": ["a", "zz"]}, r"--columns: unknown column\(s\) 'zz'; available: a, b, c"),
        ({"categorical": ["zz"]}, r"--categorical: unknown column\(s\) 'zz'"),
        ({"numeric": ["zz"]}, r"--numeric: unknown column\(s\) 'zz'"),
        ({"numeric": ["a"], "categorical": ["a"]}, r"both --categorical and --numeric"),
    ],
)
def test_plan_rejects_unknown_or_contradictory_names(
    options: dict[str, list[str]], message: str
) -> None:
    reference = pd.DataFrame({"a": [1.0], "b": [2.0]})
    current = pd.DataFrame({"a": [1.0], "c": [2.0]})

    with pytest.raises(ConfigError, match=message):
        plan_columns(reference, current, **options)


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.csv", "data.CSV", "data.csv.gz", "data.parquet", "data.pq"])
def test_read_frame_by_extension(tmp_path: Path, name: str) -> None:
    frame = pd.DataFrame({"x": [1.5, np.inf], "c": ["a", "b"], "n": [1, 2]})
    path = tmp_path / name
    if name.lower().endswith((".parquet", ".pq")):
        frame.to_parquet(path)
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
    else:
        frame.to_csv(path, index=False)

    pd.testing.assert_frame_equal(read_frame(path), frame)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.json", b"{}", r"data\.json: unsupported file type; supported: \.csv, \.csv\.gz"),
        ("data.csv", b"", r"data\.csv: empty file"),
        ("data.csv", b"a,b\n", r"data\.csv: no data rows"),
        ("data.csv", b"a,b\n1,2\n3,4,5\n", r"data\.csv: malformed CSV: .*line 3"),
        ("data.csv", b'a,b\n1,"2\n', r"data\.csv: malformed CSV"),
        ("data.csv.gz", b"not gzip", r"data\.csv\.gz: malformed CSV"),
        ("data.parquet", b"not parquet", r"data\.parquet: unreadable Parquet"),
    ],
)
def test_read_frame_errors_name_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(DataFileError, match=message) as caught:
        read_frame(path)
    assert "\n" not in str(caught.value)


def test_read_frame_of_a_missing_file_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"absent\.csv: file not found"):
        read_frame(tmp_path / "absent.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataFileError, match=r"folder\.csv: is a directory"):
        read_frame(tmp_path / "folder.csv")
