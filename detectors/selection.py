"""Automatic choice of a drift test per column, by kind, sample size and cardinality.

Two policies, both written down here and in ``docs/architecture.md``:

``"evidently"`` — Evidently 0.7's documented rule, for parity with it (``n_values`` is the
number of distinct non-missing values of reference and current together):

=================  ====================================  ==============================
reference rows     numeric column                        categorical column
=================  ====================================  ==============================
≤ 1000             > 5 values: KS; 3–5: χ² GOF; ≤ 2: Z    > 2 values: χ² GOF; ≤ 2: Z
> 1000             > 5 values: Wasserstein (normed);      Jensen–Shannon
                   ≤ 5: Jensen–Shannon
=================  ====================================  ==============================

with Evidently's thresholds (KS, χ² GOF, Z: p < 0.05; distances ≥ 0.1).

``"driftline"`` (the default) — the same structure with calibrated tests: the χ²
*homogeneity* test replaces the goodness-of-fit one, which treats the reference shares as
exact and raises false alarms at 4–9 times its nominal rate (statistics reference §6), and
every p-value test uses level 0.05 before the multiple-testing correction of
:mod:`detectors.decision`. The distances are used only when the current window is large too
(more than 1000 rows): their fixed thresholds ignore sampling noise, so a small window
against a large reference crosses them by chance (the normed Wasserstein distance of an
unchanged 100-row window passes 0.1 seven times in ten); a smaller window gets the row's
tests for a small reference.

Overrides take precedence in this order: a column's own, its kind's, then one for all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from detectors.errors import InvalidInputError

__all__ = ["DEFAULT_THRESHOLDS", "P_VALUE_TESTS", "Choice", "ColumnInfo", "Policy", "select"]

Policy = Literal["driftline", "evidently"]
Kind = Literal["numeric", "categorical"]

#: Tests whose threshold is a p-value level; the others are distances (drift if ≥).
P_VALUE_TESTS = frozenset(
    {"ks", "cvm", "anderson", "chi2", "chi2_gof", "z_test", "fisher", "g_test"}
)
#: Evidently's default thresholds, used by both policies unless a test is listed below.
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "ks": 0.05,
    "chi2": 0.05,
    "chi2_gof": 0.05,
    "z_test": 0.05,
    "cvm": 0.1,
    "anderson": 0.1,
    "fisher": 0.1,
    "g_test": 0.1,
    "wasserstein": 0.1,
    "wasserstein_normed": 0.1,
    "jensen_shannon": 0.1,
    "psi": 0.1,
    "kl": 0.1,
    "hellinger": 0.1,
}
_DRIFTLINE_P_LEVEL = 0.05
#: Rows up to which a side counts as small (Evidently's reference rule).
_SMALL = 1000


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """What the choice depends on."""

    name: str
    kind: Kind
    #: Non-missing reference values.
    n_reference: int
    #: Distinct non-missing values of reference and current together.
    n_values: int
    #: Current rows tested (``None``: unknown, decided by the reference alone).
    n_current: int | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """The test for one column and the threshold its verdict uses."""

    method: str
    threshold: float

    @property
    def has_p_value(self) -> bool:
        return self.method in P_VALUE_TESTS


def select(
    columns: Sequence[ColumnInfo],
    *,
    policy: Policy = "driftline",
    per_column: Mapping[str, str] | None = None,
    per_kind: Mapping[str, str] | None = None,
    for_all: str | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> list[Choice]:
    """One :class:`Choice` per column.

    Parameters
    ----------
    per_column, per_kind, for_all
        Test names overriding the policy for a column (by name), a kind, or every column.
    thresholds
        Test name to threshold, overriding the defaults.

    Examples
    --------
    >>> cols = [ColumnInfo("age", "numeric", 800, 60), ColumnInfo("plan", "categorical", 800, 4)]
    >>> [c.method for c in select(cols)]
    ['ks', 'chi2']
    >>> [c.method for c in select(cols, policy="evidently")]
    ['ks', 'chi2_gof']
    >>> large = ColumnInfo("age", "numeric", 50_000, 900)
    >>> [c.method for c in select([large])], [c.method for c in select([large], policy="evidently")]
    (['wasserstein_normed'], ['wasserstein_normed'])
    >>> small_window = ColumnInfo("age", "numeric", 50_000, 900, n_current=300)
    >>> [c.method for c in select([small_window])]
    ['ks']
    >>> [c.method for c in select([small_window], policy="evidently")]
    ['wasserstein_normed']
    """
    if policy not in get_args(Policy):
        msg = f"policy must be one of {', '.join(map(repr, get_args(Policy)))}, got {policy!r}"
        raise InvalidInputError(msg)
    per_column = dict(per_column or {})
    per_kind = dict(per_kind or {})
    for where, names in (
        ("per_column", per_column.values()),
        ("per_kind", per_kind.values()),
        ("for_all", [for_all] if for_all else []),
    ):
        for name in names:
            _check_test(name, where)
    unknown_kinds = set(per_kind) - set(get_args(Kind))
    if unknown_kinds:
        msg = f"per_kind: unknown kind(s) {sorted(unknown_kinds)}; kinds are numeric, categorical"
        raise InvalidInputError(msg)
    unknown_columns = set(per_column) - {c.name for c in columns}
    if unknown_columns:
        msg = f"per_column: unknown column(s) {sorted(unknown_columns)}"
        raise InvalidInputError(msg)
    limits = {**DEFAULT_THRESHOLDS, **_policy_thresholds(policy), **(thresholds or {})}
    choices = []
    for column in columns:
        method = (
            per_column.get(column.name)
            or per_kind.get(column.kind)
            or for_all
            or _automatic(column, policy)
        )
        choices.append(Choice(method, limits[method]))
    return choices


def _automatic(column: ColumnInfo, policy: Policy) -> str:
    many_categories = "chi2_gof" if policy == "evidently" else "chi2"
    small_current = (
        policy == "driftline" and column.n_current is not None and column.n_current <= _SMALL
    )
    if column.n_reference <= _SMALL or small_current:
        if column.kind == "numeric" and column.n_values > 5:
            return "ks"
        return many_categories if column.n_values > 2 else "z_test"
    if column.kind == "numeric" and column.n_values > 5:
        return "wasserstein_normed"
    return "jensen_shannon"


def _policy_thresholds(policy: Policy) -> dict[str, float]:
    if policy == "evidently":
        return {}
    return dict.fromkeys(P_VALUE_TESTS, _DRIFTLINE_P_LEVEL)


def _check_test(name: str, where: str) -> None:
    if name not in DEFAULT_THRESHOLDS:
        known = ", ".join(sorted(DEFAULT_THRESHOLDS))
        msg = f"{where}: unknown test {name!r}; known tests: {known}"
        raise InvalidInputError(msg)
