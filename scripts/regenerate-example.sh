#!/usr/bin/env bash
# Rewrites example/ — the committed generator output for the iris example — after a template change.
# The golden test (test/example/golden.test.ts) fails until this has been run and the result committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
rm -rf example
node dist/bin/ml-microservice.js --example iris --output example --skip-install --force --no-interactive
echo "example/ regenerated; review with: git status example/ && git diff example/"
