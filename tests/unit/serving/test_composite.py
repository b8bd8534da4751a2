"""Pipelines and ensembles served in-process: same answers as composing the models by hand,
each member tapped as its own model plus the composite as a whole, members' errors keeping
their status, and the checks that refuse a composite that cannot work."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from serving.composite import CompositeError, EnsembleConfig, PipelineConfig, PipelineStep
from serving.composite.combine import vote
from serving.composite.graph import deploy_order
from serving.composite.plan import plan
from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.model import LoadedModel
from serving.runtimes.base import Runtime, TensorSpec
from serving.runtimes.python import PythonRuntime
from serving.runtimes.sklearn import SklearnRuntime
from serving.server import Server, create_server
from serving.tap import TappedBatch
from tests.unit.serving.asgi import running

pytestmark = pytest.mark.anyio

RAW = tuple(FeatureInput(f"x{i}") for i in range(4))
SCALED = tuple(FeatureInput(f"s{i}") for i in range(4))
X, Y = make_classification(
    n_samples=400, n_features=4, n_informative=3, n_redundant=1, random_state=0
)
Y3 = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes, for votes that can tie


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def max_probability(values: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """A custom combiner: the most confident member's probabilities, per row."""
    stacked = np.stack(values)
    best = stacked.max(axis=2).argmax(axis=0)
    result: NDArray[Any] = stacked[best, np.arange(stacked.shape[1])]
    return result


class Fitted:
    """The models, fitted once for the module."""

    def __init__(self) -> None:
        self.scaler = StandardScaler().fit(X)
        scaled = self.scaler.transform(X)
        self.scaled_clf = LogisticRegression().fit(scaled, Y)
        self.binary = LogisticRegression().fit(X, Y)
        self.voters = {
            "lr": LogisticRegression(max_iter=500).fit(X, Y3),
            "tree": DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, Y3),
            "nb": GaussianNB().fit(X, Y3),
        }


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    return Fitted()


class Slow(Runtime):
    platform = "python_test"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1,)),)

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        time.sleep(self.seconds)
        return {"y": features[:, 0]}


class Collected:
    def __init__(self) -> None:
        self.batches: list[TappedBatch] = []

    def submit(self, batch: TappedBatch) -> None:
        self.batches.append(batch)

    def of(self, model: str, request_id: str) -> list[TappedBatch]:
        return [b for b in self.batches if b.model == model and request_id in b.request_ids]


def loader(fitted: Fitted) -> Any:
    def load(config: ModelConfig) -> Runtime:
        if config.uri == "scaler":
            return PythonRuntime(
                fitted.scaler.transform, outputs=[TensorSpec("scaled", "FP64", (-1, 4))]
            )
        if config.uri == "scaled-clf":
            return SklearnRuntime(fitted.scaled_clf, feature_names=config.feature_names)
        if config.uri == "binary":
            return SklearnRuntime(fitted.binary)
        if config.uri.startswith("slow"):
            return Slow(float(config.uri.removeprefix("slow-")))
        return SklearnRuntime(fitted.voters[config.uri], feature_names=config.feature_names)

    return load


def model(name: str, uri: str, features: tuple[FeatureInput, ...] = RAW, **kw: Any) -> ModelConfig:
    return ModelConfig(name=name, version="1", runtime="test", uri=uri, features=features, **kw)


def composite(
    name: str, spec: PipelineConfig | EnsembleConfig, version: str = "1", **kw: Any
) -> ModelConfig:
    return ModelConfig(
        name=name, version=version, runtime=spec.kind, uri="", features=RAW, composite=spec, **kw
    )


PIPELINE = PipelineConfig(
    steps=(PipelineStep("scaler"), PipelineStep("clf", inputs="scaled")),
    outputs={"label": "predict", "proba": "predict_proba"},
)


def configs() -> list[ModelConfig]:
    # composites first: the server deploys them after their members
    return [
        composite("churn", PIPELINE),
        composite("soft", EnsembleConfig(("lr", "tree", "nb"), combine="mean")),
        composite("hard", EnsembleConfig(("lr", "tree", "nb"), combine="vote")),
        composite(
            "custom",
            EnsembleConfig(
                ("lr", "nb"),
                combine="tests.unit.serving.test_composite:max_probability",
                outputs=("predict_proba",),
            ),
        ),
        model("scaler", "scaler"),
        model("clf", "scaled-clf", SCALED),
        model("lr", "lr"),
        model("tree", "tree"),
        model("nb", "nb"),
        model("bin", "binary"),
    ]


def server(fitted: Fitted, extra: Sequence[ModelConfig] = (), **kw: Any) -> Server:
    return create_server([*configs(), *extra], load_runtime=loader(fitted), **kw)


def body(rows: NDArray[Any], request_id: str = "r") -> dict[str, Any]:
    return {
        "id": request_id,
        "inputs": [
            {"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.tolist()}
        ],
    }


def outputs(answer: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    return {o["name"]: np.reshape(o["data"], o["shape"]) for o in answer["outputs"]}


async def test_a_pipeline_answers_as_the_models_composed_by_hand(fitted: Fitted) -> None:
    tap = Collected()
    async with running(server(fitted, tap=tap).app) as http:
        answer = await http.post("/v2/models/churn/infer", json=body(X[:25], "p-1"))
        metadata = (await http.get("/v2/models/churn")).json()
    assert answer.status_code == 200, answer.text
    got = outputs(answer.json())
    scaled = fitted.scaler.transform(X[:25])
    np.testing.assert_allclose(got["proba"], fitted.scaled_clf.predict_proba(scaled), rtol=1e-12)
    np.testing.assert_array_equal(got["label"], fitted.scaled_clf.predict(scaled))
    assert answer.json()["model_name"] == "churn"
    assert metadata["platform"] == "driftline_pipeline"
    assert [i["name"] for i in metadata["inputs"]] == ["x0", "x1", "x2", "x3"]
    assert {o["name"]: o["shape"] for o in metadata["outputs"]} == {
        "label": [-1],
        "proba": [-1, 2],
    }
    assert metadata["parameters"]["roles"] == {"prediction": "label", "probabilities": "proba"}
    assert metadata["parameters"]["composite"] == {"kind": "pipeline", "members": ["scaler", "clf"]}
    (whole,) = tap.of("churn", "p-1")
    (scaler,) = tap.of("scaler", "p-1")
    (clf,) = tap.of("clf", "p-1")
    assert whole.version == "1"
    assert whole.feature_names == ("x0", "x1", "x2", "x3")
    np.testing.assert_array_equal(whole.features, X[:25])
    np.testing.assert_allclose(whole.outputs["proba"], got["proba"])
    np.testing.assert_allclose(scaler.outputs["scaled"], scaled)
    assert clf.features is not None
    np.testing.assert_allclose(clf.features, scaled)
    assert whole.statuses == scaler.statuses == clf.statuses == ("ok",)


async def test_ensembles_answer_as_their_members_combined_by_hand(fitted: Fitted) -> None:
    rows = X[:60]
    probabilities = [m.predict_proba(rows) for m in fitted.voters.values()]
    labels = np.stack([m.predict(rows) for m in fitted.voters.values()], axis=1)
    tap = Collected()
    async with running(server(fitted, tap=tap).app) as http:
        soft, hard, custom = await asyncio.gather(
            http.post("/v2/models/soft/infer", json=body(rows, "s")),
            http.post("/v2/models/hard/records", json={"id": "h", "records": records(rows)}),
            http.post("/v2/models/custom/infer", json=body(rows, "c")),
        )
    assert soft.status_code == hard.status_code == custom.status_code == 200, soft.text
    np.testing.assert_allclose(
        outputs(soft.json())["predict_proba"], np.mean(probabilities, axis=0), rtol=1e-12
    )
    np.testing.assert_array_equal(
        [p["predict"] for p in hard.json()["predictions"]], majority(labels)
    )
    best = np.stack([probabilities[0], probabilities[2]])
    pick = best.max(axis=2).argmax(axis=0)
    np.testing.assert_allclose(
        outputs(custom.json())["predict_proba"], best[pick, np.arange(len(rows))]
    )
    for member in ("lr", "tree", "nb"):
        assert tap.of(member, "s"), f"member {member} of the soft ensemble was not tapped"
    assert [b.model for b in tap.batches if "h" in b.request_ids].count("hard") == 1


def records(rows: NDArray[Any]) -> list[dict[str, float]]:
    return [{f"x{j}": float(v) for j, v in enumerate(row)} for row in rows]


def majority(labels: NDArray[Any]) -> list[Any]:
    """Per row, the most frequent label; a tie goes to the label of the earliest member."""
    chosen = []
    for row in labels:
        counts = [list(row).count(label) for label in row]
        chosen.append(row[counts.index(max(counts))])
    return chosen


def test_vote_breaks_ties_for_the_earliest_member() -> None:
    first = np.array(["a", "b", "c", "x"])
    second = np.array(["b", "a", "c", "y"])
    third = np.array(["b", "c", "a", "z"])
    assert vote([first, second, third]).tolist() == ["b", "b", "c", "x"]
    assert vote([np.array([2, 1]), np.array([1, 2])]).tolist() == [2, 1]


async def test_members_errors_keep_their_status(fitted: Fitted) -> None:
    one_at_a_time = BatchingConfig(max_batch_size=1, max_batch_delay_ms=0, max_queue_size=1)
    extra = [
        model("slow", "slow-0.3", batching=one_at_a_time),
        composite("crowded", PipelineConfig((PipelineStep("slow"),))),
        composite(
            "hurried",
            PipelineConfig((PipelineStep("slow"),)),
            batching=BatchingConfig(timeout_ms=50),
        ),
    ]
    tap = Collected()
    async with running(server(fitted, extra, tap=tap).app) as http:
        nulls = [None] * 4  # null: a missing value (NaN)
        tensor = {"name": "x", "shape": [1, 4], "datatype": "FP64", "data": nulls}
        missing = {"id": "nan", "inputs": [tensor]}
        bad = await http.post("/v2/models/churn/infer", json=missing)
        late = await http.post("/v2/models/hurried/infer", json=body(X[:1], "late"))
        crowd = await asyncio.gather(
            *(http.post("/v2/models/crowded/infer", json=body(X[:1], f"c{i}")) for i in range(4))
        )
    assert bad.status_code == 400, bad.text
    assert "step 2 ('clf')" in bad.json()["error"]
    assert late.status_code == 504, late.text
    codes = sorted(r.status_code for r in crowd)
    assert 503 in codes, codes
    assert set(codes) <= {200, 503}, codes
    assert tap.of("churn", "nan")[0].statuses == ("bad_input",)
    assert tap.of("clf", "nan")[0].statuses == ("bad_input",)
    assert tap.of("hurried", "late")[0].statuses == ("timeout",)
    overloaded = [b for b in tap.batches if b.model == "crowded" and "overloaded" in b.statuses]
    assert overloaded


async def test_a_member_version_that_no_longer_fits_is_refused(fitted: Fitted) -> None:
    async with running(server(fitted).app) as http:
        swap = await http.post(
            "/v2/repository/models/scaler/load",
            json={"parameters": {"version": "2", "uri": "lr"}},
        )
        unload = await http.post("/v2/repository/models/scaler/unload")
        still = await http.post("/v2/models/churn/infer", json=body(X[:2]))
        reload = await http.post("/v2/repository/models/churn/load", json={})
        index = (await http.post("/v2/repository/index")).json()
    assert swap.status_code == 400
    assert swap.json()["error"] == (
        "version '2' of 'scaler' does not fit 'churn', which uses it: pipeline 'churn', "
        "step 2 ('clf'): inputs: step 1 ('scaler') has no output 'scaled'; its outputs: "
        "predict, predict_proba"
    )
    assert unload.status_code == 400
    assert unload.json()["error"] == "model 'scaler' is a member of 'churn'; unload that first"
    assert still.status_code == 200
    assert reload.status_code == 200, reload.text
    assert {row["name"]: row["state"] for row in index}["churn"] == "READY"


# -- checks against the deployed members (no server needed) -----------------------------


class Members:
    """A lookup over runtimes built in the test."""

    def __init__(self, fitted: Fitted) -> None:
        load = loader(fitted)
        self.models = {c.name: LoadedModel(c, load(c)) for c in configs() if c.composite is None}

    def __call__(self, name: str) -> LoadedModel | None:
        return self.models.get(name)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            PipelineConfig((PipelineStep("scaler"), PipelineStep("nope"))),
            "pipeline 'p': member 'nope' is not deployed",
        ),
        (
            PipelineConfig((PipelineStep("scaler"), PipelineStep("clf", inputs={"s9": "scaled"}))),
            "pipeline 'p', step 2 ('clf'): inputs: 'clf' has no input 's9'; its inputs: s0, s1, "
            "s2, s3",
        ),
        (
            PipelineConfig((PipelineStep("scaler"), PipelineStep("clf", inputs="scales"))),
            "pipeline 'p', step 2 ('clf'): inputs: step 1 ('scaler') has no output 'scales'; "
            "its outputs: scaled",
        ),
        (
            PipelineConfig((PipelineStep("scaler"), PipelineStep("clf"))),
            "pipeline 'p', step 2 ('clf'): input 's0': step 1 ('scaler') has no output 's0'; "
            "its outputs: scaled (map it with inputs)",
        ),
        (
            PipelineConfig(
                (PipelineStep("scaler"), PipelineStep("clf", inputs="scaled")),
                outputs={"y": "predict_log_proba"},
            ),
            "pipeline 'p': outputs.y: step 2 ('clf') has no output 'predict_log_proba'; its "
            "outputs: predict, predict_proba",
        ),
        (
            PipelineConfig((PipelineStep("clf", inputs={"s0": "x0"}),)),
            "pipeline 'p', step 1 ('clf'): input 's1': the pipeline has no feature 's1'; its "
            "features: x0, x1, x2, x3 (map it with inputs)",
        ),
        (
            PipelineConfig((PipelineStep("lr"), PipelineStep("nb", inputs="predict_proba"))),
            "pipeline 'p', step 2 ('nb'): inputs: 'predict_proba' of step 1 ('lr') has shape "
            "[-1, 3], but 'nb' takes 4 feature(s)",
        ),
        (
            PipelineConfig(
                (
                    PipelineStep("lr"),
                    PipelineStep("nb", inputs={f"x{i}": "predict_proba" for i in range(4)}),
                )
            ),
            "pipeline 'p', step 2 ('nb'): input 'x0' takes one column, but 'predict_proba' of "
            "step 1 ('lr') has shape [-1, 3]",
        ),
        (
            EnsembleConfig(("lr", "bin"), combine="mean", outputs=("predict_proba",)),
            "ensemble 'p': output 'predict_proba' has shape [-1, 3] in member 'lr' but [-1, 2] "
            "in 'bin'",
        ),
        (
            EnsembleConfig(("lr", "scaler"), combine="vote", outputs=("predict",)),
            "ensemble 'p': outputs: member 'scaler' has no output 'predict'; its outputs: scaled",
        ),
        (
            EnsembleConfig(("lr", "clf")),
            "ensemble 'p', member 'clf': input 's0': the ensemble has no feature 's0'",
        ),
    ],
)
def test_a_composite_that_does_not_fit_its_members_is_refused(
    fitted: Fitted, spec: PipelineConfig | EnsembleConfig, message: str
) -> None:
    with pytest.raises(CompositeError) as caught:
        plan(composite("p", spec), Members(fitted))
    assert message in str(caught.value)


def test_self_references_and_cycles_are_refused() -> None:
    itself = composite("p", PipelineConfig((PipelineStep("p"),)))
    with pytest.raises(CompositeError, match="pipeline 'p': names itself as a member"):
        deploy_order([itself])
    a = composite("a", PipelineConfig((PipelineStep("b"),)))
    b = composite("b", EnsembleConfig(("c", "a")))
    with pytest.raises(CompositeError, match="its members call it back: a → b → a"):
        deploy_order([a, b, model("c", "c")])
    order = deploy_order([a, composite("b", EnsembleConfig(("c", "d"))), model("c", "c")])
    assert [c.name for c in order] == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": ("a",)}, "ensemble: members: expected at least two models"),
        ({"members": ("a", "a")}, "ensemble: members[1]: 'a' is listed twice"),
        ({"members": ("a", "b"), "combine": "median"}, "expected mean, vote or"),
    ],
)
def test_ensemble_declarations_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(CompositeError, match=re.escape(message)):
        EnsembleConfig(**kwargs)
