#!/usr/bin/env bash
# `npm run demo`: generates the iris example into demo/iris-classifier (a fresh folder each time),
# installs it, trains it and serves it on http://127.0.0.1:8000 (PORT overrides) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip

npm run build --silent
rm -rf demo/iris-classifier
node dist/bin/ml-microservice.js --example iris --output demo/iris-classifier --no-interactive

cd demo/iris-classifier
npm run train
echo
echo "Serving on http://127.0.0.1:${PORT:-8000} — open http://127.0.0.1:${PORT:-8000}/docs (Ctrl-C stops)"
PORT="${PORT:-8000}" HOST=127.0.0.1 exec npm start
