from __future__ import annotations

import numpy as np

from collectors.ingest import class_label, parse_feedback, parse_records
from storage import FeatureSchema, FeatureSpec, ModelHandle, Task
from storage.batch import pack_batch

MODEL = ModelHandle(
    model_id=1,
    model_name="m",
    task=Task.BINARY_CLASSIFICATION,
    classes=("no", "yes"),
    version_id=1,
    version="1",
    schema=FeatureSchema(
        (
            FeatureSpec("age", "numeric"),
            FeatureSpec("vec", "embedding", 3),
            FeatureSpec("note", "text"),
        )
    ),
)


def test_missing_and_refused_records_fit_the_stored_layout_with_embeddings() -> None:
    item, problems = parse_records(
        [
            {"request_id": "a", "features": {"age": 3, "vec": [1, 2, 3]}, "prediction": "yes"},
            {"request_id": "b", "features": {}, "prediction": 0},
            {"request_id": "c", "features": {"vec": [1, 2]}, "prediction": "no"},
        ],
        MODEL,
        now=1.8e9,
    )
    assert [p.field for p in problems] == ["features.vec"]
    assert item.batch.predictions == ["yes", "no", None]
    vectors = item.batch.features["vec"]
    assert vectors.shape == (3, 3)
    assert np.isnan(vectors[1:]).all()
    packed = pack_batch(MODEL, item.batch)  # the store accepts every record, the refused one too
    assert packed.status.tolist() == [0, 0, 2]


def test_class_labels_by_name_or_index() -> None:
    assert class_label("yes", MODEL.classes) == "yes"
    assert class_label(1, MODEL.classes) == "yes"
    assert class_label(2, MODEL.classes) is None
    assert class_label(True, MODEL.classes) is None
    assert class_label(1, ("0", "1")) == "1"


def test_feedback_reports_bad_labels_and_keeps_good_ones() -> None:
    good, problems = parse_feedback(
        [{"request_id": "a", "label": 0}, {"request_id": "b", "label": "maybe"}, "x"], MODEL
    )
    assert good.request_ids == ["a"]
    assert good.values == ["no"]
    assert [(p.index, p.field) for p in problems] == [(1, "label"), (2, "*")]
