#!/usr/bin/env bash
# Builds berth/python:3.11 offline from Debian's packages: debootstrap a
# minimal bookworm, add python3, the Jupyter Notebook server, tmux, an SSH
# server and common tools, then `docker import` it with the ai.backend.*
# labels. Usage: images/python/build.sh DOCKER_HOST TAG RECIPE_HASH
set -euo pipefail
host=$1 tag=$2 recipe=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/berth-python-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mirror=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/berth-debootstrap.log 2>&1 || {
  tail -20 /tmp/berth-debootstrap.log; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
# packages go in after debootstrap: in its --include they fail while configuring
chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-notebook python3-pip python3-venv tmux openssh-server openssh-sftp-server procps ca-certificates \
  less nano curl git unzip bzip2 xz-utils >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*" \
  >/tmp/berth-python-apt.log 2>&1 || { tail -20 /tmp/berth-python-apt.log; exit 1; }
# `work` has no password but is not locked ('*', not '!'): sshd without PAM
# refuses locked accounts even for key logins
chroot "$root" /bin/sh -c "useradd --uid 1000 --home-dir /home/work --shell /bin/bash work && \
  usermod -p '*' work && mkdir -p /home/work /run/sshd && chown 1000:1000 /home/work"
# Everything runs as work (uid 1000). The Python environment is a venv
# under /opt owned by work, seeing Debian's packages (Jupyter among them):
# `pip install` as work lands there, in the container's own layer, so a
# commit keeps it. Jupyter's kernel is the venv's Python.
chroot "$root" /bin/sh -c "python3 -m venv --system-site-packages /opt/python && \
  /opt/python/bin/python3 -m ipykernel install --prefix=/opt/python --name python3 --display-name 'Python 3' >/dev/null && \
  chown -R 1000:1000 /opt/python" >/tmp/berth-python-venv.log 2>&1 || { tail -20 /tmp/berth-python-venv.log; exit 1; }
mkdir -p "$root/etc/backend.ai/service-defs"
cp "$here"/service-defs/*.json "$root/etc/backend.ai/service-defs/"
cp "$here/sshd_config" "$root/etc/ssh/sshd_config"
rm -f "$root"/etc/ssh/ssh_host_*   # made per container when sshd starts
: > "$root/etc/resolv.conf"
tar -C "$root" -c . | docker -H "$host" import \
  -c 'ENV PATH=/opt/python/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/home/work LANG=C.UTF-8 VIRTUAL_ENV=/opt/python' \
  -c 'WORKDIR /home/work' \
  -c 'USER 1000:1000' \
  -c 'CMD ["/bin/bash"]' \
  -c 'LABEL ai.backend.kernelspec="1"' \
  -c 'LABEL ai.backend.display-name="Python"' \
  -c 'LABEL ai.backend.base-distro="debian12"' \
  -c 'LABEL ai.backend.runtime-type="python"' \
  -c 'LABEL ai.backend.runtime-path="/usr/bin/python3"' \
  -c 'LABEL ai.backend.resource.min.cpu="0.5"' \
  -c 'LABEL ai.backend.resource.min.mem="256m"' \
  -c 'LABEL ai.backend.service-ports="jupyter:http:8081,sshd:tcp:2200"' \
  -c "LABEL berth.recipe=\"$recipe\"" \
  - "$tag" >/dev/null
