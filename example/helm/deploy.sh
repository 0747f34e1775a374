#!/usr/bin/env bash
# Deploys iris-classifier with this chart (helm upgrade --install) and waits until its pods are ready.
#
#   helm/deploy.sh [TAG]   TAG: the image tag to run (default: the chart's appVersion, the API version)
#
# The cluster is the one KUBECONFIG (or ~/.kube/config) points at; RELEASE and NAMESPACE override
# iris-classifier and iris-classifier. Secrets come from the environment only: API_KEYS and MONGODB_URL, when
# set, go into the chart's Secret through files only you can read, never through the command line.
#
# With rollout.enabled in values.yaml the pods are an Argo Rollouts canary, which helm does not wait for: the script
# then follows the Rollout (with kubectl) until it is Healthy (exit 0: the new image serves everything) or Degraded
# (exit 1: its analysis failed and Argo Rollouts rolled it back; the previous image serves everything), at most
# ROLLOUT_TIMEOUT_SECONDS (1800). Without kubectl it says how to follow the canary and leaves it to the cluster.
set -euo pipefail
cd "$(dirname "$0")"

release=${RELEASE:-iris-classifier}
namespace=${NAMESPACE:-iris-classifier}
args=(upgrade --install "$release" . --namespace "$namespace" --create-namespace --wait --timeout "${HELM_TIMEOUT:-5m}")
if (($# > 0)); then args+=(--set-string "image.tag=$1"); fi

secrets=$(mktemp -d)
trap 'rm -rf "$secrets"' EXIT
chmod 700 "$secrets"
if [[ -n "${API_KEYS:-}" ]]; then
  printf '%s' "$API_KEYS" >"$secrets/api-keys"
  args+=(--set-file "secret.apiKeys=$secrets/api-keys")
fi
if [[ -n "${MONGODB_URL:-}" ]]; then
  printf '%s' "$MONGODB_URL" >"$secrets/mongodb-url"
  args+=(--set-file "secret.mongodbUrl=$secrets/mongodb-url")
fi

helm "${args[@]}"

# The Rollout of this release, if the chart rendered one (rollout.enabled). The manifest is read whole first: grep -q
# stopping early would fail the pipe under pipefail.
manifest=$(helm get manifest "$release" --namespace "$namespace")
if ! grep -q '^kind: Rollout$' <<<"$manifest"; then exit 0; fi
if ! command -v kubectl >/dev/null; then
  echo "The new pods roll out as an Argo Rollouts canary; follow it with:" \
    "kubectl argo rollouts get rollout --namespace $namespace <name> --watch (kubectl is not installed here)" >&2
  exit 0
fi
name=$(kubectl get rollouts.argoproj.io --namespace "$namespace" --selector "app.kubernetes.io/instance=$release" \
  --output 'jsonpath={.items[0].metadata.name}')
deadline=$((SECONDS + ${ROLLOUT_TIMEOUT_SECONDS:-1800}))
while :; do
  # generation/observedGeneration: the controller has seen this upgrade; phase: where the canary is.
  state=$(kubectl get rollouts.argoproj.io "$name" --namespace "$namespace" \
    --output 'jsonpath={.metadata.generation} {.status.observedGeneration} {.status.phase} {.status.message}')
  read -r generation observed phase message <<<"$state"
  if [[ "$generation" == "$observed" ]]; then
    case "$phase" in
      Healthy)
        echo "Rollout $name is healthy: the new version serves all traffic"
        exit 0
        ;;
      Degraded)
        echo "Rollout $name was aborted and rolled back (${message:-no message}): the previous version serves all traffic" >&2
        exit 1
        ;;
    esac
  fi
  if ((SECONDS >= deadline)); then
    echo "Rollout $name is still ${phase:-starting} after ${ROLLOUT_TIMEOUT_SECONDS:-1800} s (${message:-no message});" \
      "see kubectl argo rollouts get rollout --namespace $namespace $name" >&2
    exit 1
  fi
  sleep "${ROLLOUT_POLL_SECONDS:-10}"
done
