#!/usr/bin/env bash
# Builds the production image (Dockerfile) or, with --runtime, the pipelines' image (docker/runtime.Dockerfile),
# tags it REPO/IMAGE:TAG for every TAG given, and with --push pushes every tag. Prints the first reference last.
#
#   docker/build-image.sh [--push | --push-only] [--runtime] [REPO [IMAGE [TAG...]]]
#
# Defaults from config.yaml: REPO localhost:32000, IMAGE iris-classifier (iris-classifier-runtime with --runtime), TAG 1.0.0.
#
# The engine: Docker when its daemon answers, else buildah (no daemon; podman runs what it builds). Environment:
#   CONTAINER_ENGINE   docker, podman or buildah instead of the choice above
# --push-only pushes the tags built before (the pipelines build, smoke-test, then push), with the same engine.
#   BUILD_OPTIONS      more options for the build, e.g. the CA bundle of a TLS-intercepting proxy as a build secret
#                      (--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt) or --pull=never for a local base image
# podman and buildah write the Docker image format (--format docker): the OCI format has no HEALTHCHECK, and
# buildah would drop the Dockerfile's.
set -euo pipefail
cd "$(dirname "$0")/.."

push=false
build=true
runtime=false
while (($#)); do
  case "$1" in
    --push) push=true ;;
    --push-only)
      push=true
      build=false
      ;;
    --runtime) runtime=true ;;
    -h | --help)
      sed -n '2,16p' "$0"
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
fi
if [[ "$runtime" != true && "$build" == true ]]; then
  if [[ ! -f package-lock.json ]]; then
    echo "package-lock.json is missing: run npm install and commit it (the image installs with npm ci)" >&2
    exit 1
  fi
  if [[ ! -d model_bin || -z "$(ls -A model_bin)" ]]; then
    echo "model_bin/ holds no model: run npm run train (or docker/ensure-model.sh, or fetch the train-model pipeline's artifact) first" >&2
    exit 1
  fi
fi

engine=${CONTAINER_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v buildah >/dev/null; then
    engine=buildah
  else
    echo "no container engine: install Docker, or buildah and podman (or set CONTAINER_ENGINE)" >&2
    exit 1
  fi
fi
case "$engine" in
  docker) build_command=(docker build) ;;
  podman | buildah) build_command=("$engine" build --format docker) ;;
  *)
    echo "CONTAINER_ENGINE=$engine: use docker, podman or buildah" >&2
    exit 2
    ;;
esac
read -r -a build_options <<<"${BUILD_OPTIONS:-}"

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag_args=()
for tag in "${tags[@]}"; do tag_args+=(--tag "$repo/$image:$tag"); done
if [[ "$build" == true ]]; then
  echo "building $repo/$image with $engine" >&2
  "${build_command[@]}" --file "$dockerfile" "${tag_args[@]}" \
    --label "org.opencontainers.image.version=1.0.0" \
    --label "org.opencontainers.image.revision=$revision" \
    ${build_options[@]+"${build_options[@]}"} \
    "$context"
fi
if [[ "$push" == true ]]; then
  for tag in "${tags[@]}"; do "$engine" push "$repo/$image:$tag"; done
fi
echo "$repo/$image:${tags[0]}"
