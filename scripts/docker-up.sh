#!/usr/bin/env bash
# Starts dockerd in the background unless an engine already answers on
# /var/run/docker.sock. A killed dockerd leaves a stale pid file that makes
# the next one refuse to start: remove it when no engine answers.
# --icc=false: containers on the default bridge cannot reach each other, so
# berth runs one-kernel sessions there instead of on a network of their own
# (isolated alike, and a quarter faster to start).
set -euo pipefail
sock=/var/run/docker.sock
if docker -H "unix://$sock" info >/dev/null 2>&1; then
  icc=$(docker -H "unix://$sock" network inspect bridge \
    --format '{{index .Options "com.docker.network.bridge.enable_icc"}}' 2>/dev/null || true)
  if [ "$icc" = "true" ]; then
    echo "note: this engine's default bridge lets containers reach each other (dockerd without" \
      "--icc=false): berth gives every session a network of its own, which starts slower" >&2
  fi
  exit 0
fi
echo "==> starting dockerd"
if [ -f /var/run/docker.pid ]; then
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
fi
nohup setsid dockerd --icc=false >/var/log/dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 120); do
  if docker -H "unix://$sock" info >/dev/null 2>&1; then
    echo "dockerd is up"
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not come up in 60 s; its log:" >&2
tail -30 /var/log/dockerd.log >&2
exit 1
