"""Feature schemas and the packed layout of a record's feature values.

A model version declares its features in order. Numeric and categorical features share one
float64 vector per record (numeric values first, then categorical dictionary codes), and
embedding features one float32 vector; text features are kept as JSON. The layout is a pure
function of the schema, so a window of records decodes with one ``frombuffer`` per version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.errors import InvalidBatchError
from storage.types import FeatureKind

__all__ = ["FeatureSchema", "FeatureSpec"]

_NAME = re.compile(r"[^\x00-\x1f]{1,255}")
_MAX_EMBEDDING_DIMS = 65_536


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One declared feature: its name, kind and, for embeddings, dimension."""

    name: str
    kind: FeatureKind
    dims: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            msg = f"feature name must be 1-255 printable characters, got {self.name!r}"
            raise InvalidBatchError(msg)
        object.__setattr__(self, "kind", _kind(self.name, self.kind))
        if self.kind is FeatureKind.EMBEDDING:
            dims = self.dims
            if not isinstance(dims, int) or isinstance(dims, bool):
                dims = None
            if dims is None or not 1 <= dims <= _MAX_EMBEDDING_DIMS:
                msg = (
                    f"feature {self.name!r}: an embedding needs dims between 1 and "
                    f"{_MAX_EMBEDDING_DIMS}, got {self.dims!r}"
                )
                raise InvalidBatchError(msg)
        elif self.dims is not None:
            msg = f"feature {self.name!r}: dims is only for embeddings, not {self.kind.value}"
            raise InvalidBatchError(msg)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind.value}
        if self.dims is not None:
            out["dims"] = self.dims
        return out


def _kind(name: str, value: str) -> FeatureKind:
    try:
        return FeatureKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in FeatureKind)
        msg = f"feature {name!r}: kind must be one of {kinds}, got {value!r}"
        raise InvalidBatchError(msg) from None


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The ordered features of a model version and where each lives in a packed record."""

    features: tuple[FeatureSpec, ...]
    _index: Mapping[str, FeatureSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.features:
            raise InvalidBatchError("a feature schema needs at least one feature")
        index: dict[str, FeatureSpec] = {}
        for spec in self.features:
            if spec.name in index:
                msg = f"feature {spec.name!r} is declared twice in the schema"
                raise InvalidBatchError(msg)
            index[spec.name] = spec
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_json(cls, items: Iterable[Mapping[str, Any]]) -> FeatureSchema:
        """Build from ``[{"name": ..., "kind": ..., "dims": ...}, ...]``."""
        return cls(tuple(FeatureSpec(i["name"], i["kind"], i.get("dims")) for i in items))

    def to_json(self) -> list[dict[str, Any]]:
        return [spec.to_json() for spec in self.features]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def _names(self, kind: FeatureKind) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.features if spec.kind is kind)

    @property
    def numeric(self) -> tuple[str, ...]:
        """Numeric feature names, in packed order."""
        return self._names(FeatureKind.NUMERIC)

    @property
    def categorical(self) -> tuple[str, ...]:
        """Categorical feature names, in packed order (after the numeric ones)."""
        return self._names(FeatureKind.CATEGORICAL)

    @property
    def text(self) -> tuple[str, ...]:
        return self._names(FeatureKind.TEXT)

    @property
    def embedding(self) -> tuple[str, ...]:
        return self._names(FeatureKind.EMBEDDING)

    @property
    def packed_width(self) -> int:
        """Length of the float64 vector holding numeric values and categorical codes."""
        return len(self.numeric) + len(self.categorical)

    @property
    def embedding_width(self) -> int:
        """Length of the float32 vector holding all embedding values."""
        return sum(spec.dims or 0 for spec in self.features if spec.kind is FeatureKind.EMBEDDING)

    def embedding_slices(self) -> dict[str, slice]:
        """Where each embedding feature sits in the float32 vector."""
        slices: dict[str, slice] = {}
        start = 0
        for spec in self.features:
            if spec.kind is FeatureKind.EMBEDDING and spec.dims is not None:
                slices[spec.name] = slice(start, start + spec.dims)
                start += spec.dims
        return slices

    def check_names(self, names: Sequence[str], *, where: str) -> None:
        """Raise :class:`InvalidBatchError` if ``names`` holds an unknown feature."""
        unknown = [name for name in names if name not in self._index]
        if unknown:
            declared = ", ".join(spec.name for spec in self.features)
            msg = (
                f"{where}: unknown feature(s) {', '.join(map(repr, unknown))}; declared: {declared}"
            )
            raise InvalidBatchError(msg)
