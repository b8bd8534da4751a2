"""Any Python callable as a model, named ``package.module:attribute``.

The attribute is one of:

* an object with ``predict`` (and optionally ``predict_proba``): served like a
  scikit-learn estimator (:class:`~serving.runtimes.sklearn.SklearnRuntime`);
* a function ``f(features) -> array | dict[str, array]``;
* a class or a function taking no arguments: called once at load, and what it returns
  must be one of the two above.

A function has one output, ``predict`` (FP64, shape ``[-1]``), unless the ``outputs`` option
declares others; a function returning a dict must declare them. The ``roles`` option says
which output is the prediction, the probabilities or a score (a lone output is the prediction).

Errors: a ``ValueError`` or ``TypeError`` raised by the callable while predicting means it
refused the input and becomes a :class:`~serving.errors.PredictionError`; an answer that does
not fit the declared outputs is a :class:`~serving.errors.ModelOutputError`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from numpy.typing import NDArray

from serving.errors import ModelOutputError, PredictionError, RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec
from serving.runtimes.outputs import check_roles, conform
from serving.runtimes.sklearn import SklearnRuntime

__all__ = ["PythonRuntime", "import_attribute", "resolve_model"]

_DEFAULT_OUTPUTS = (TensorSpec("predict", "FP64", (-1,)),)


class PythonRuntime(Runtime):
    """A Python object with ``predict``, or a function of the feature rows.

    Parameters
    ----------
    target
        The object or function (see the module's description).
    outputs
        Declared outputs; by default those of the estimator, or one ``predict`` output.
    roles
        Declared roles; by default an object's are ``predict`` / ``predict_proba`` and a
        function's lone output is the prediction.
    feature_names
        Declared features, for an object fitted on a data frame (as
        :class:`~serving.runtimes.sklearn.SklearnRuntime`).
    name
        What the model is called in messages.

    Raises
    ------
    RuntimeLoadError
        When ``target`` is neither, or the declarations do not fit it.
    """

    platform = "python"

    def __init__(
        self,
        target: Any,
        *,
        outputs: Sequence[TensorSpec] | None = None,
        roles: Mapping[OutputRole, str] | None = None,
        feature_names: Sequence[str] = (),
        name: str = "python model",
    ) -> None:
        what = f"python model {name}"
        self._model: Runtime
        if callable(getattr(target, "predict", None)):
            self._model = SklearnRuntime(
                target, feature_names=feature_names, outputs=outputs, name=name
            )
        elif callable(target):
            self._model = _Function(target, outputs or _DEFAULT_OUTPUTS, what=what)
        else:
            raise RuntimeLoadError(
                f"{what} is of type {type(target).__name__}: expected a function f(features) "
                "or an object with a predict method"
            )
        chosen = self._model.roles if roles is None else roles
        self._roles = check_roles(chosen, self._model.outputs, what=what)

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._model.outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        return self._model.predict(features, outputs)

    def close(self) -> None:
        self._model.close()


class _Function(Runtime):
    """``f(features) -> array | dict[str, array]`` held to declared outputs."""

    platform = "python"

    def __init__(
        self, function: Callable[[NDArray[Any]], Any], outputs: Sequence[TensorSpec], *, what: str
    ) -> None:
        self._function = function
        self._outputs = tuple(outputs)
        self._specs = {spec.name: spec for spec in self._outputs}
        self._what = what

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return {"prediction": self._outputs[0].name} if len(self._outputs) == 1 else {}

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        try:
            answer = self._function(features)
        except (ValueError, TypeError) as error:
            raise PredictionError(f"{self._what}: {error}") from error
        if not isinstance(answer, Mapping):
            if len(self._outputs) != 1:
                raise ModelOutputError(
                    f"{self._what} returned one array but declares {len(self._outputs)} "
                    "outputs: return a dict {output name: array}"
                )
            answer = {self._outputs[0].name: answer}
        missing = [name for name in outputs if name not in answer]
        if missing:
            raise ModelOutputError(
                f"{self._what} returned no {', '.join(map(repr, missing))}; "
                f"it returned {', '.join(map(repr, answer))}"
            )
        rows = features.shape[0]
        return {
            name: conform(answer[name], self._specs[name], rows, what=self._what)
            for name in outputs
        }


def import_attribute(reference: str, *, what: str) -> Any:
    """The object ``package.module:attribute`` names (dotted attributes allowed).

    Raises
    ------
    RuntimeLoadError
        When the reference is malformed, the module cannot be imported or the attribute does
        not exist; the message starts with ``what``.
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise RuntimeLoadError(
            f"{what}: expected 'package.module:attribute', such as 'my_models.churn:model'"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise RuntimeLoadError(
            f"{what}: cannot import module {module_name!r} ({error}); "
            "install the package that provides it or put its folder on PYTHONPATH"
        ) from error
    except Exception as error:  # the module's own code ran and failed: report, do not crash
        raise RuntimeLoadError(
            f"{what}: importing {module_name!r} failed: {type(error).__name__}: {error}"
        ) from error
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise RuntimeLoadError(
                f"{what}: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    return target


def resolve_model(reference: str) -> Any:
    """The object ``package.module:attribute`` names, called first if it is a factory.

    A class, or a function without required parameters, is called once (a factory); a
    function with a parameter is the model itself.

    Raises
    ------
    RuntimeLoadError
        When the reference is malformed, the module cannot be imported, the attribute does
        not exist or the factory fails.
    """
    target = import_attribute(reference, what=f"python model {reference!r}")
    if not _is_factory(target):
        return target
    try:
        return target()
    except Exception as error:  # the factory is user code
        attribute = reference.partition(":")[2]
        raise RuntimeLoadError(
            f"python model {reference!r}: calling {attribute}() to build the model failed: "
            f"{type(error).__name__}: {error}"
        ) from error


def _is_factory(target: Any) -> bool:
    if isinstance(target, type):
        return True
    if callable(getattr(target, "predict", None)) or not callable(target):
        return False
    try:
        parameters = inspect.signature(target).parameters.values()
    except (ValueError, TypeError):  # no signature (some builtins): take it as the model
        return False
    required = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return not any(p.kind in required and p.default is p.empty for p in parameters)
