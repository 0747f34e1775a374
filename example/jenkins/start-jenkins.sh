#!/usr/bin/env bash
# Starts a local Jenkins controller for iris-classifier in a container: builds jenkins/controller (plugins
# pre-installed, the train-model and build-image jobs defined by Configuration as Code), mounts this project
# read-only as the jobs' Git repository and the host's Docker socket for the pipelines' agents, and prints where
# to log in. Needs Docker on Linux; the project must be a Git repository with a commit.
#
#   jenkins/start-jenkins.sh          JENKINS_PORT (default 8080), JENKINS_ADMIN_PASSWORD (default: generated)
#   jenkins/start-jenkins.sh --stop   stops and removes the controller (its jenkins_home volume stays)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly IMAGE=iris-classifier-jenkins:local
readonly CONTAINER=iris-classifier-jenkins
port=${JENKINS_PORT:-8080}

case "${1:-}" in
  --stop)
    docker rm --force "$CONTAINER"
    exit 0
    ;;
  "") ;;
  *)
    sed -n '7,8p' "$0" >&2
    exit 2
    ;;
esac

if ! git rev-parse --verify HEAD >/dev/null 2>&1; then
  echo "$(pwd) is not a Git repository with a commit: the jobs check the project out from it (git init && git add -A && git commit)" >&2
  exit 1
fi
branch=$(git rev-parse --abbrev-ref HEAD)

generated=false
if [[ -z "${JENKINS_ADMIN_PASSWORD:-}" ]]; then
  JENKINS_ADMIN_PASSWORD=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  generated=true
fi
export JENKINS_ADMIN_PASSWORD

docker build --tag "$IMAGE" jenkins/controller
docker rm --force "$CONTAINER" >/dev/null 2>&1 || true
docker_gid=$(stat -c %g /var/run/docker.sock)
docker run --detach --name "$CONTAINER" \
  --publish "127.0.0.1:$port:8080" \
  --volume "$CONTAINER-home:/var/jenkins_home" \
  --volume "$(pwd):/project:ro" \
  --volume /var/run/docker.sock:/var/run/docker.sock \
  --group-add "$docker_gid" \
  --env JENKINS_ADMIN_PASSWORD \
  --env "PROJECT_BRANCH=$branch" \
  "$IMAGE" >/dev/null

echo "Jenkins is starting on http://127.0.0.1:$port/ (user admin) with the jobs train-model and build-image."
if [[ "$generated" == true ]]; then echo "Admin password (generated, not stored): $JENKINS_ADMIN_PASSWORD"; fi
echo "Run build-image with DOCKER_GID=$docker_gid. Logs: docker logs --follow $CONTAINER"
