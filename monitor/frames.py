"""Data files at the edge: CSV or Parquet into pandas, then into the arrays detectors take.

The detectors never see pandas (``docs/architecture.md``). This module reads a file, decides
each column's kind, lines two files' columns up and turns the columns into
``float64`` arrays: numeric values (NaN for missing, infinities kept for the quality
findings) and categorical codes shared by both files (NaN for missing).

Kinds: numeric dtypes are numeric, except ``bool``; bool, object, string and category
columns are categorical. Text-like columns (object or string values that are long and hold
spaces) are skipped: text drift is a later feature. A column without any value in one file
takes its kind from the other file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from monitor.errors import ConfigError, DataFileError

__all__ = [
    "FORMATS",
    "ColumnPlan",
    "EncodedSide",
    "Skipped",
    "TypeChange",
    "category_labels",
    "code_categories",
    "encode",
    "infer_kind",
    "numeric_values",
    "plan_columns",
    "read_frame",
    "report_frame",
]

#: File name endings read, by format.
FORMATS = {"CSV": (".csv", ".csv.gz"), "Parquet": (".parquet", ".pq")}
#: Object columns whose values average more characters than this, and mostly hold a space,
#: are text.
TEXT_MEAN_LENGTH = 50

Kind = Literal["numeric", "categorical"]
#: What one file's column looks like: ``"empty"`` has no value to judge its kind from.
Seen = Literal["numeric", "categorical", "text", "empty", "unsupported"]
Opener = Callable[[Path], contextlib.AbstractContextManager[IO[bytes]]]


def _open_binary(path: Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    return path.open("rb")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def read_frame(path: Path, *, open_binary: Opener = _open_binary) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) file.

    Parameters
    ----------
    path
        The file; its name decides the format.
    open_binary
        Opens the file for reading bytes (the CLI passes one that shows progress).

    Raises
    ------
    DataFileError
        Unsupported name, missing or unreadable file, malformed content, no rows.
    """
    name = path.name.lower()
    is_csv = name.endswith(FORMATS["CSV"])
    if not is_csv and not name.endswith(FORMATS["Parquet"]):
        supported = ", ".join(ending for endings in FORMATS.values() for ending in endings)
        msg = f"{path}: unsupported file type; supported: {supported}"
        raise DataFileError(msg)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, not a file")
    try:
        with open_binary(path) as handle:
            if is_csv:
                compression = "gzip" if name.endswith(".gz") else None
                frame = pd.read_csv(handle, compression=compression, low_memory=False)
            else:
                frame = pd.read_parquet(handle)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: empty file, no header and no rows") from None
    except (ValueError, OSError, EOFError) as exc:  # parser, decoding, Arrow, gzip, I/O
        what = "malformed CSV" if is_csv else "unreadable Parquet"
        raise DataFileError(f"{path}: {what}: {_one_line(exc)}") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataFileError(f"{path}: no data rows")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _is_text(values: pd.Series) -> bool:
    """Long values (mean length over ``TEXT_MEAN_LENGTH``), most of them with a space."""
    strings = values.astype(str)
    mean_length = float(strings.str.len().mean())
    spaced = float(strings.str.contains(r"\s", regex=True).mean())
    return mean_length > TEXT_MEAN_LENGTH and spaced > 0.5


def infer_kind(series: pd.Series) -> Seen:
    """What a column looks like: numeric, categorical, text, empty or unsupported.

    Examples
    --------
    >>> [infer_kind(pd.Series(v)) for v in ([1, 2], [True, False], ["a", "b"], [None, None])]
    ['numeric', 'categorical', 'categorical', 'empty']
    """
    dtype = series.dtype
    values = series.dropna()
    if values.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "text" if _is_text(values) else "categorical"
    return "unsupported"


@dataclass(frozen=True, slots=True)
class TypeChange:
    """A column whose kind differs between the files; it is not tested."""

    name: str
    reference: str
    current: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A column left out of the check, and why."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Which columns are tested as what, and which are only findings."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    missing_in_current: tuple[str, ...]
    added_in_current: tuple[str, ...]
    type_changed: tuple[TypeChange, ...]
    skipped: tuple[Skipped, ...]


def _unknown(what: str, names: Iterable[str], available: Sequence[str]) -> None:
    unknown = [name for name in names if name not in available]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        msg = f"{what}: unknown column(s) {listed}; available: {', '.join(available)}"
        raise ConfigError(msg)


def plan_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    categorical: Collection[str] = (),
    numeric: Collection[str] = (),
) -> ColumnPlan:
    """Line up two frames' columns: tested ones by kind, the others as findings.

    Parameters
    ----------
    columns
        Restrict the check to these columns (default: every column of either frame).
    categorical, numeric
        Columns whose kind is forced (integer ids as categories, say).

    Raises
    ------
    ConfigError
        A named column is in neither frame, or is forced to both kinds.
    """
    available = [*reference.columns, *(c for c in current.columns if c not in reference)]
    _unknown("--columns", columns or (), available)
    _unknown("--categorical", categorical, available)
    _unknown("--numeric", numeric, available)
    both = sorted(set(categorical) & set(numeric))
    if both:
        raise ConfigError(f"column(s) {both} cannot be both --categorical and --numeric")
    forced: dict[str, Kind] = {
        **dict.fromkeys(categorical, "categorical"),
        **dict.fromkeys(numeric, "numeric"),
    }
    wanted = [name for name in available if columns is None or name in columns]
    kinds: dict[str, list[str]] = {"numeric": [], "categorical": []}
    missing, added, changed, skipped = [], [], [], []
    for name in wanted:
        if name not in current:
            missing.append(name)
            continue
        if name not in reference:
            added.append(name)
            continue
        if name in forced:
            kinds[forced[name]].append(name)
            continue
        seen = (infer_kind(reference[name]), infer_kind(current[name]))
        if "text" in seen:
            skipped.append(Skipped(name, "text column; text drift is not checked yet"))
        elif "unsupported" in seen:
            dtypes = f"{reference[name].dtype} / {current[name].dtype}"
            skipped.append(Skipped(name, f"unsupported type ({dtypes})"))
        elif seen[0] != seen[1] and "empty" not in seen:
            changed.append(TypeChange(name, seen[0], seen[1]))
        else:
            kind = "categorical" if "categorical" in seen else "numeric"
            kinds[kind].append(name)
    return ColumnPlan(
        numeric=tuple(kinds["numeric"]),
        categorical=tuple(kinds["categorical"]),
        missing_in_current=tuple(missing),
        added_in_current=tuple(added),
        type_changed=tuple(changed),
        skipped=tuple(skipped),
    )


def numeric_values(series: pd.Series, *, source: str = "data") -> NDArray[np.float64]:
    """A column as float64: NaN for missing, infinities kept; bool as 0 / 1.

    Raises
    ------
    DataFileError
        A value is not a number (the column was forced numeric).
    """
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        example = series[bad].iloc[0]
        msg = f"{source}: column {series.name!r} is not numeric: found {example!r}"
        raise DataFileError(msg)
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))


def category_labels(series: pd.Series) -> NDArray[np.object_]:
    """A column's values as strings, ``None`` for missing.

    Whole floats read as integers (``1.0`` → ``"1"``), so an integer column matches the same
    column read as floats because it has a missing value.

    Examples
    --------
    >>> category_labels(pd.Series([1.0, None, 2.5])).tolist()
    ['1', None, '2.5']
    """
    missing = series.isna().to_numpy()
    out = np.full(len(series), None, dtype=object)
    present = series[~missing]
    if pd.api.types.is_float_dtype(present.dtype):
        floats = present.to_numpy(dtype=np.float64)
        whole = (np.abs(floats) < 2.0**53) & (floats == np.round(floats))
        text = floats.astype(str).astype(object)
        text[whole] = floats[whole].astype(np.int64).astype(str)
        out[~missing] = text
    else:
        out[~missing] = present.astype(str).to_numpy(dtype=object)
    return out


def code_categories(
    reference: NDArray[np.object_], current: NDArray[np.object_]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Both columns' labels as codes of one shared, sorted list of categories.

    Returns
    -------
    tuple
        Reference codes, current codes (float64, NaN for missing) and the categories.

    Examples
    --------
    >>> ref, cur, cats = code_categories(
    ...     np.array(["b", "a", None], dtype=object), np.array(["c", "a"], dtype=object)
    ... )
    >>> ref.tolist(), cur.tolist(), cats.tolist()
    ([1.0, 0.0, nan], [2.0, 0.0], ['a', 'b', 'c'])
    """
    masks = [np.asarray(pd.notna(labels), dtype=bool) for labels in (reference, current)]
    present = [
        labels[mask].astype(str) for labels, mask in zip((reference, current), masks, strict=True)
    ]
    categories = np.unique(np.concatenate(present))
    coded = []
    for labels, mask, values in zip((reference, current), masks, present, strict=True):
        codes = np.full(len(labels), np.nan)
        codes[mask] = np.searchsorted(categories, values)
        coded.append(codes)
    return coded[0], coded[1], categories


@dataclass(frozen=True, slots=True)
class EncodedSide:
    """One file's tested columns: numeric ``(n, a)`` and categorical codes ``(n, b)``."""

    numeric: NDArray[np.float64]
    categorical: NDArray[np.float64]


def encode(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    plan: ColumnPlan,
    *,
    sources: tuple[str, str] = ("reference", "current"),
) -> tuple[EncodedSide, EncodedSide, tuple[NDArray[np.str_], ...]]:
    """The planned columns of both frames as arrays, and each categorical column's categories.

    Parameters
    ----------
    sources
        The files' names, for error messages.
    """
    sides: list[dict[str, Any]] = [{"numeric": [], "categorical": []} for _ in range(2)]
    for side, frame, source in zip(sides, (reference, current), sources, strict=True):
        for name in plan.numeric:
            side["numeric"].append(numeric_values(frame[name], source=source))
    categories = []
    for name in plan.categorical:
        ref, cur, values = code_categories(
            category_labels(reference[name]), category_labels(current[name])
        )
        sides[0]["categorical"].append(ref)
        sides[1]["categorical"].append(cur)
        categories.append(values)
    encoded = [
        EncodedSide(
            numeric=_stack(side["numeric"], len(frame)),
            categorical=_stack(side["categorical"], len(frame)),
        )
        for side, frame in zip(sides, (reference, current), strict=True)
    ]
    return encoded[0], encoded[1], tuple(categories)


def _stack(columns: list[NDArray[np.float64]], rows: int) -> NDArray[np.float64]:
    if not columns:
        return np.empty((rows, 0))
    return np.column_stack(columns).astype(np.float64, copy=False)


def report_frame(frame: pd.DataFrame, plan: ColumnPlan, *, source: str = "data") -> pd.DataFrame:
    """The planned columns as a frame for a third-party report (Evidently).

    Numeric columns are float64 with infinities as missing; categorical ones are the labels
    that were coded, so the report sees exactly the values the check compared.
    """
    data: dict[str, Any] = {}
    for name in plan.numeric:
        values = numeric_values(frame[name], source=source)
        data[name] = np.where(np.isinf(values), np.nan, values)
    for name in plan.categorical:
        data[name] = category_labels(frame[name])
    return pd.DataFrame(data, columns=[*plan.numeric, *plan.categorical])
