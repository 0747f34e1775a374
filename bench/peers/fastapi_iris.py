"""The Python peer for the benchmark: a typical FastAPI + scikit-learn service equivalent to the iris
example (same CSV, same model family, same request and response shapes), as the seed template served it.

Run with Debian's interpreter: /usr/bin/python3 bench/peers/fastapi_iris.py DATA_CSV PORT [def|async]
"""

import csv
import sys
import uuid
from typing import Dict, Optional

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train(path: str):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    x = [[float(row[name]) for name in FEATURES] for row in rows]
    y = [row["species"] for row in rows]
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


def create_app(model, mode: str) -> FastAPI:
    app = FastAPI()
    classes = [str(c) for c in model.classes_]

    def predict(body: PredictRequest) -> PredictResponse:
        probabilities = model.predict_proba([[getattr(body, name) for name in FEATURES]])[0]
        best = int(probabilities.argmax())
        return PredictResponse(
            request_id=body.request_id or str(uuid.uuid4()),
            prediction=classes[best],
            probabilities={c: float(p) for c, p in zip(classes, probabilities)},
            api_version="1.0.0",
        )

    if mode == "async":

        @app.post("/predict", response_model=PredictResponse)
        async def predict_async(body: PredictRequest):
            return predict(body)

    else:

        @app.post("/predict", response_model=PredictResponse)
        def predict_sync(body: PredictRequest):
            return predict(body)

    @app.get("/ready")
    def ready():
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    data, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "def"
    uvicorn.run(create_app(train(data), mode), host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)
