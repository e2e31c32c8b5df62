#!/usr/bin/env bash
# Builds the environment images offline (no registry is reachable): the
# busybox-static image `berth/busybox:latest` from images/busybox.
# Docker's layer cache makes a re-run take about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
host=${BERTH_DOCKER_HOST:-unix:///var/run/docker.sock}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp images/busybox/* "$ctx/"
cp /bin/busybox "$ctx/busybox"
DOCKER_BUILDKIT=0 docker -H "$host" build -q -t berth/busybox:latest "$ctx" >"$ctx/.log" 2>&1 || { cat "$ctx/.log" >&2; exit 1; }
echo "image berth/busybox:latest ready"
