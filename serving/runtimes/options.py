"""A runtime's options, from the model's configuration, checked once at load.

``options`` is a free-form mapping in the model's configuration (``options:`` in the project
file). Each runtime names the keys it takes; an unknown key or a value of the wrong type fails
the load with a message naming the runtime and the option, not the first request.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from serving.errors import RuntimeLoadError
from serving.runtimes.base import OutputRole, TensorSpec
from serving.runtimes.outputs import DATATYPES, ROLES

__all__ = ["RuntimeOptions"]


class RuntimeOptions:
    """The options of one runtime, with typed readers that reject bad values.

    Parameters
    ----------
    options
        The options as configured; ``None`` for none.
    runtime
        Runtime kind, for messages.
    allowed
        Every key this runtime takes.

    Raises
    ------
    RuntimeLoadError
        When ``options`` has a key the runtime does not take.
    """

    def __init__(
        self, options: Mapping[str, Any] | None, *, runtime: str, allowed: Collection[str]
    ) -> None:
        self.runtime = runtime
        self._values = dict(options or {})
        unknown = sorted(set(self._values) - set(allowed))
        if unknown:
            takes = ", ".join(sorted(allowed)) or "no options"
            raise RuntimeLoadError(
                f"the {runtime} runtime has no option {', '.join(map(repr, unknown))}; "
                f"it takes: {takes}"
            )

    def positive_int(self, key: str, default: int) -> int:
        """The integer option ``key`` (≥ 1), or ``default``."""
        value = self._values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self._error(key, "a positive integer", value)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        """The option ``key``, one of ``choices``, or ``default``."""
        value = self._values.get(key, default)
        if value not in choices:
            raise self._error(key, f"one of {', '.join(choices)}", value)
        return str(value)

    def outputs(self) -> tuple[TensorSpec, ...] | None:
        """Declared outputs: a list of ``{name, datatype, shape?}`` (shape ``[-1]`` if left out).

        ``None`` when the option is not set.
        """
        raw = self._values.get("outputs")
        if raw is None:
            return None
        wanted = "a non-empty list of {name, datatype, shape} mappings"
        if not isinstance(raw, list | tuple) or not raw:
            raise self._error("outputs", wanted, raw)
        specs = tuple(self._output(index, item) for index, item in enumerate(raw))
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise self._error("outputs", "outputs with distinct names", names)
        return specs

    def roles(self) -> dict[OutputRole, str] | None:
        """Declared roles: ``{role: output name}``; ``None`` when the option is not set."""
        raw = self._values.get("roles")
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or not all(
            role in ROLES and isinstance(name, str) for role, name in raw.items()
        ):
            raise self._error("roles", f"a mapping of {', '.join(ROLES)} to output names", raw)
        return dict(raw)

    def _output(self, index: int, item: Any) -> TensorSpec:
        key = f"outputs[{index}]"
        if not isinstance(item, Mapping) or not set(item) <= {"name", "datatype", "shape"}:
            raise self._error(key, "a mapping with keys name, datatype and shape", item)
        name, datatype, shape = item.get("name"), item.get("datatype"), item.get("shape", [-1])
        if not isinstance(name, str) or not name:
            raise self._error(f"{key}.name", "a non-empty string", name)
        if datatype not in DATATYPES:
            raise self._error(f"{key}.datatype", f"one of {', '.join(DATATYPES)}", datatype)
        if (
            not isinstance(shape, list | tuple)
            or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in shape)
        ):
            raise self._error(f"{key}.shape", "a non-empty list of sizes (-1: any)", shape)
        return TensorSpec(name, str(datatype), tuple(shape))

    def _error(self, key: str, wanted: str, got: Any) -> RuntimeLoadError:
        return RuntimeLoadError(
            f"option {key!r} of the {self.runtime} runtime must be {wanted}, got {got!r}"
        )
