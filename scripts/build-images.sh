#!/usr/bin/env bash
# Builds the environment images offline (no registry is reachable): the
# busybox-static image `berth/busybox:latest` from images/busybox (Docker's
# layer cache makes a re-run take about a second), and `berth/python:3.11`
# from Debian's packages with debootstrap and PyPI's wheels (images/python;
# ~1 min 50 s, ~980 MB),
# rebuilt only when its recipe changes (the image carries the recipe's hash
# in the label berth.recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
host=${BERTH_DOCKER_HOST:-unix:///var/run/docker.sock}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp images/busybox/* "$ctx/"
cp /bin/busybox "$ctx/busybox"
DOCKER_BUILDKIT=0 docker -H "$host" build -q -t berth/busybox:latest "$ctx" >"$ctx/.log" 2>&1 || { cat "$ctx/.log" >&2; exit 1; }
echo "image berth/busybox:latest ready"

python_tag=berth/python:3.11
recipe=$(cat images/python/build.sh images/python/sshd_config images/python/berth_folder_sites.py images/python/service-defs/* | sha256sum | cut -c1-16)
have=$(docker -H "$host" image inspect "$python_tag" --format '{{index .Config.Labels "berth.recipe"}}' 2>/dev/null || true)
if [ "$have" = "$recipe" ]; then
  echo "image $python_tag ready (recipe $recipe)"
else
  echo "building $python_tag (debootstrap; a minute or two the first time)"
  old=$(docker -H "$host" image inspect "$python_tag" --format '{{.Id}}' 2>/dev/null || true)
  images/python/build.sh "$host" "$python_tag" "$recipe"
  # the previous build is no longer tagged: drop it unless a container uses it
  [ -n "$old" ] && docker -H "$host" rmi "$old" >/dev/null 2>&1 || true
  echo "image $python_tag ready"
fi
