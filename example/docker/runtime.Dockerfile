# syntax=docker/dockerfile:1
# The image the pipelines run in (jenkins/*/Jenkinsfile build it as their agent): Node with the build tools
# that `npm ci`, `npm test` and `npm run train` may need (the full Debian-based node image: gcc, make, python3,
# git, curl), plus the Docker CLI (to build, push and smoke-test the production image through the host's
# Docker socket), Helm (to deploy the chart) and ShellCheck. Build it with docker/build-image.sh --runtime.
ARG DOCKER_CLI_IMAGE=docker:27.5.1-cli
ARG HELM_IMAGE=alpine/helm:3.17.3

FROM ${DOCKER_CLI_IMAGE} AS docker-cli
FROM ${HELM_IMAGE} AS helm

FROM node:20.20.2-bookworm AS runtime
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=helm /usr/bin/helm /usr/local/bin/helm
RUN apt-get update \
  && apt-get install -y --no-install-recommends shellcheck \
  && rm -rf /var/lib/apt/lists/*
# The base image's node user; Jenkins runs the container with its own uid anyway.
USER 1000:1000
WORKDIR /home/node
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
# A tool image: nothing listens, so there is nothing to check.
HEALTHCHECK NONE
CMD ["node", "--version"]
