"""The minimal FastAPI model server a user would write: parse, predict, answer; no batching.

Run by ``benchmarks/serving/run.py`` as ``uvicorn naive_app:app`` with ``MODEL_PATH`` set.
"""

from __future__ import annotations

import os
from typing import Any

import joblib
import numpy as np
from fastapi import FastAPI, Request

app = FastAPI()
model = joblib.load(os.environ["MODEL_PATH"])


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request) -> dict[str, Any]:
    body = await request.json()
    tensor = body["inputs"][0]
    rows = np.asarray(tensor["data"], dtype=np.float64).reshape(tensor["shape"])
    prediction = model.predict(rows)
    return {
        "model_name": name,
        "id": body.get("id"),
        "outputs": [
            {
                "name": "predict",
                "datatype": "INT64",
                "shape": list(prediction.shape),
                "data": prediction.tolist(),
            }
        ],
    }
