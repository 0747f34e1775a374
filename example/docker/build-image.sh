#!/usr/bin/env bash
# Builds the production image (Dockerfile) or, with --runtime, the pipelines' image (docker/runtime.Dockerfile),
# tags it REPO/IMAGE:TAG for every TAG given, and with --push pushes every tag. Prints the first reference last.
#
#   docker/build-image.sh [--push] [--runtime] [REPO [IMAGE [TAG...]]]
#
# Defaults from config.yaml: REPO localhost:32000, IMAGE iris-classifier (iris-classifier-runtime with --runtime), TAG 1.0.0.
set -euo pipefail
cd "$(dirname "$0")/.."

push=false
runtime=false
while (($#)); do
  case "$1" in
    --push) push=true ;;
    --runtime) runtime=true ;;
    -h | --help)
      sed -n '2,8p' "$0"
      exit 0
      ;;
    -*)
      echo "unknown option $1 (see --help)" >&2
      exit 2
      ;;
    *) break ;;
  esac
  shift
done

repo=${1:-localhost:32000}
image=${2:-iris-classifier}
if (($# > 2)); then tags=("${@:3}"); else tags=(1.0.0); fi

if [[ "$runtime" == true ]]; then
  dockerfile=docker/runtime.Dockerfile
  context=docker
  [[ $# -ge 2 ]] || image="$image-runtime"
else
  dockerfile=Dockerfile
  context=.
  if [[ ! -f package-lock.json ]]; then
    echo "package-lock.json is missing: run npm install and commit it (the image installs with npm ci)" >&2
    exit 1
  fi
  if [[ ! -d model_bin || -z "$(ls -A model_bin)" ]]; then
    echo "model_bin/ holds no model: run npm run train (or docker/ensure-model.sh, or fetch the train-model pipeline's artifact) first" >&2
    exit 1
  fi
fi

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag_args=()
for tag in "${tags[@]}"; do tag_args+=(--tag "$repo/$image:$tag"); done
docker build --file "$dockerfile" "${tag_args[@]}" \
  --label "org.opencontainers.image.version=1.0.0" \
  --label "org.opencontainers.image.revision=$revision" \
  "$context"
if [[ "$push" == true ]]; then
  for tag in "${tags[@]}"; do docker push "$repo/$image:$tag"; done
fi
echo "$repo/$image:${tags[0]}"
