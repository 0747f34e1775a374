#!/usr/bin/env bash
# Deploys iris-classifier with this chart (helm upgrade --install) and waits until its pods are ready.
#
#   helm/deploy.sh [TAG]   TAG: the image tag to run (default: the chart's appVersion, the API version)
#
# The cluster is the one KUBECONFIG (or ~/.kube/config) points at; RELEASE and NAMESPACE override
# iris-classifier and iris-classifier. Secrets come from the environment only: API_KEYS and MONGODB_URL, when
# set, go into the chart's Secret through files only you can read, never through the command line.
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
