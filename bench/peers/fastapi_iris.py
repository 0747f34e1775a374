"""The Python peer for the benchmark: a typical FastAPI + scikit-learn service equivalent to the iris
example (same CSV, same model family, same request and response shapes), as the seed template served it,
with POST /predict and POST /predict/batch ({"rows": [...]}, up to 1000 rows, one predict_proba for them all).

Run with Debian's interpreter: /usr/bin/python3 bench/peers/fastapi_iris.py DATA_CSV PORT [def|async] [TARGET]
With TARGET, the same service for another all-numeric CSV: its other columns are the features (floats).
"""

import csv
import sys
import uuid
from typing import Dict, List, Optional

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field, conlist, create_model
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train(path: str, features, target: str):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    x = [[float(row[name]) for name in features] for row in rows]
    y = [row[target] for row in rows]
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(x, y)


class PredictRequest(BaseModel):
    request_id: Optional[str] = None
    sepal_length: float = Field(ge=0, le=15)
    sepal_width: float = Field(ge=0, le=10)
    petal_length: float = Field(ge=0, le=15)
    petal_width: float = Field(ge=0, le=5)

    class Config:
        extra = "forbid"


class PredictResponse(BaseModel):
    request_id: str
    prediction: str
    probabilities: Dict[str, float]
    api_version: str


class RowPrediction(BaseModel):
    request_id: str
    prediction: str
    probabilities: Dict[str, float]


class BatchResponse(BaseModel):
    predictions: List[RowPrediction]
    api_version: str


def create_app(model, mode: str, features, row_model) -> FastAPI:
    app = FastAPI()
    classes = [str(c) for c in model.classes_]

    class BatchRequest(BaseModel):
        rows: conlist(row_model, min_items=1, max_items=1000)

        class Config:
            extra = "forbid"

    def answer(body, probabilities) -> dict:
        best = int(probabilities.argmax())
        return dict(
            request_id=body.request_id or str(uuid.uuid4()),
            prediction=classes[best],
            probabilities={c: float(p) for c, p in zip(classes, probabilities)},
        )

    def predict(body) -> PredictResponse:
        probabilities = model.predict_proba([[getattr(body, name) for name in features]])[0]
        return PredictResponse(**answer(body, probabilities), api_version="1.0.0")

    def predict_batch(body: BatchRequest) -> BatchResponse:
        probabilities = model.predict_proba([[getattr(row, name) for name in features] for row in body.rows])
        return BatchResponse(
            predictions=[RowPrediction(**answer(row, p)) for row, p in zip(body.rows, probabilities)],
            api_version="1.0.0",
        )

    if mode == "async":

        @app.post("/predict", response_model=PredictResponse)
        async def predict_async(body: row_model):
            return predict(body)

        @app.post("/predict/batch", response_model=BatchResponse)
        async def predict_batch_async(body: BatchRequest):
            return predict_batch(body)

    else:

        @app.post("/predict", response_model=PredictResponse)
        def predict_sync(body: row_model):
            return predict(body)

        @app.post("/predict/batch", response_model=BatchResponse)
        def predict_batch_sync(body: BatchRequest):
            return predict_batch(body)

    @app.get("/ready")
    def ready():
        return {"status": "ready"}

    return app


class RowConfig:
    extra = "forbid"


if __name__ == "__main__":
    data, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "def"
    if len(sys.argv) > 4:
        target = sys.argv[4]
        with open(data, newline="") as handle:
            features = [name for name in next(csv.reader(handle)) if name != target]
        fields = {name: (float, ...) for name in features}
        row_model = create_model("PredictRequest", __config__=RowConfig, request_id=(Optional[str], None), **fields)
    else:
        target, features, row_model = "species", FEATURES, PredictRequest
    model = train(data, features, target)
    uvicorn.run(create_app(model, mode, features, row_model), host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)
