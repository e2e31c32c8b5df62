#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster (installed, not running, on this
# kind of machine) for the PostgreSQL run of the integration tests, and
# prints the URL tests create their throwaway databases on.
set -euo pipefail
# Only the URL goes to stdout: pg_ctlcluster prints notes such as "Removed
# stale pid file." there, which would end up in the caller's URL.
exec 3>&1 1>&2
if ! command -v pg_ctlcluster >/dev/null; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  # The server must not inherit fd 3 (the caller's $(...) pipe), or the
  # caller waits for it to exit, i.e. forever.
  pg_ctlcluster "$version" main start </dev/null 3>&-
fi
for _ in $(seq 1 50); do
  su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'berth-test'\"" >/dev/null
echo "postgres://postgres:berth-test@127.0.0.1:5432" >&3
