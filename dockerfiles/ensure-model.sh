#!/usr/bin/env bash
# Makes sure model_bin/ holds a trained model (from `npm run train`, or the train-model pipeline's archived
# artifact): trains one when it is empty or missing. The pipelines' Model stage and start-local-service.sh use it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -d model_bin && -n "$(ls -A model_bin)" ]]; then
  echo "model_bin/ holds a model already: not training"
else
  npm run train
fi
