#!/usr/bin/env bash
# Smoke-tests iris-classifier: waits until GET /ready answers 200 (the model is loaded), then POSTs the example row
# of features.yaml to /predict and checks that the answer carries a prediction.
#
#   docker/smoke-test.sh --image IMAGE   runs the image, probes it from inside the container, removes it
#   docker/smoke-test.sh --url URL       probes a service that is already running, e.g. http://127.0.0.1:8000
#
# The probes are Node one-liners (fetch), so they run the same inside the production image, which has no curl.
# With --image the container runs the way the Helm chart runs the pod: read-only root file system with tmpfs at
# /tmp and /app/logs, all capabilities dropped, no privilege escalation, the image's own non-root user.
#
# The engine: Docker when its daemon answers, else podman. Environment:
#   CONTAINER_ENGINE   docker or podman (buildah means podman: it runs what buildah builds)
#   RUN_OPTIONS        more options for `run`, e.g. --runtime runc, or --ulimit where the defaults exceed the host's
set -euo pipefail

readonly BODY='{"request_id":"smoke-test","sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}'
readonly ATTEMPTS=${SMOKE_ATTEMPTS:-60}

readonly PROBE_READY='
const res = await fetch(process.argv[1] + "/ready");
if (res.status !== 200) { console.error("/ready answered " + res.status); process.exit(1); }
'
readonly PROBE_PREDICT='
const res = await fetch(process.argv[1] + "/predict", { method: "POST", headers: { "content-type": "application/json" }, body: process.argv[2] });
const text = await res.text();
if (res.status !== 200 || !("prediction" in JSON.parse(text))) { console.error("/predict answered " + res.status + ": " + text); process.exit(1); }
console.log("/predict: " + text);
'

usage() { sed -n '5,6p' "$0" >&2; }
if (($# != 2)); then
  usage
  exit 2
fi

engine=${CONTAINER_ENGINE:-}
if [[ "$1" == --image && -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
  else
    echo "no container engine: install Docker, or podman (or set CONTAINER_ENGINE)" >&2
    exit 1
  fi
fi
[[ "$engine" == buildah ]] && engine=podman
read -r -a run_options <<<"${RUN_OPTIONS:-}"

container=""
cleanup() {
  if [[ -n "$container" ]]; then "$engine" rm --force "$container" >/dev/null; fi
}
trap cleanup EXIT

# probe SCRIPT URL [BODY]: runs a probe here, or inside the container when there is one.
probe() {
  if [[ -n "$container" ]]; then
    "$engine" exec "$container" node --input-type=module -e "$1" "${@:2}"
  else
    node --input-type=module -e "$1" "${@:2}"
  fi
}

case "$1" in
  --image)
    container=$("$engine" run --detach --read-only --tmpfs /tmp --tmpfs /app/logs --cap-drop ALL \
      --security-opt no-new-privileges ${run_options[@]+"${run_options[@]}"} "$2")
    url="http://127.0.0.1:8000"
    ;;
  --url) url=${2%/} ;;
  *)
    usage
    exit 2
    ;;
esac

echo "smoke test: waiting for $url/ready"
ready=false
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if [[ -n "$container" && "$("$engine" inspect --format '{{.State.Running}}' "$container")" != true ]]; then
    "$engine" logs "$container" >&2 || true
    echo "smoke test: the container stopped" >&2
    exit 1
  fi
  if probe "$PROBE_READY" "$url" 2>/dev/null; then
    ready=true
    break
  fi
  sleep 1
done
if [[ "$ready" != true ]]; then
  if [[ -n "$container" ]]; then "$engine" logs "$container" >&2 || true; fi
  echo "smoke test: $url/ready did not answer 200 after $ATTEMPTS attempts" >&2
  exit 1
fi
probe "$PROBE_PREDICT" "$url" "$BODY"
echo "smoke test passed"
