#!/usr/bin/env bash
# Runs iris-classifier on this machine the way its image does: installs the dependencies when they are missing,
# trains when there is no model yet, compiles, and runs `node dist/http/server.js` (PORT and HOST from the
# environment, else config.yaml: http://127.0.0.1:8000/docs). Ctrl-C stops it cleanly.
#
#   docker/start-local-service.sh            with this machine's Node
#   docker/start-local-service.sh --docker   builds the production image and runs it (needs Docker)
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node's install script skips its CUDA download (inference is CPU-only); a value you set is kept.
export ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL:-skip}

case "${1:-}" in
  --docker)
    docker/ensure-model.sh
    image=$(docker/build-image.sh | tail -n 1)
    exec docker run --rm --init --publish "127.0.0.1:${PORT:-8000}:8000" "$image"
    ;;
  "") ;;
  *)
    sed -n '5,6p' "$0" >&2
    exit 2
    ;;
esac

if [[ ! -d node_modules ]]; then
  if [[ -f package-lock.json ]]; then npm ci; else npm install; fi
fi
docker/ensure-model.sh
npm run build
exec node dist/http/server.js
