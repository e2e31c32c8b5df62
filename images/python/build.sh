#!/usr/bin/env bash
# Builds berth/python:3.11 from Debian's packages and PyPI (no container
# registry): debootstrap a minimal bookworm, add python3, tmux, an SSH
# server and common tools; in a venv, JupyterLab, the Notebook 7 interface
# and the data stack people expect (numpy, pandas, matplotlib, scipy,
# scikit-learn); then `docker import` it with the ai.backend.* labels.
# Usage: images/python/build.sh DOCKER_HOST TAG RECIPE_HASH
# (BERTH_PIP_INDEX_URL: another package index, e.g. a local mirror.)
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
  python3 python3-pip python3-venv tmux openssh-server openssh-sftp-server procps ca-certificates \
  less nano curl git unzip bzip2 xz-utils >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*" \
  >/tmp/berth-python-apt.log 2>&1 || { tail -20 /tmp/berth-python-apt.log; exit 1; }
# `work` has no password but is not locked ('*', not '!'): sshd without PAM
# refuses locked accounts even for key logins
chroot "$root" /bin/sh -c "useradd --uid 1000 --home-dir /home/work --shell /bin/bash work && \
  usermod -p '*' work && mkdir -p /home/work /run/sshd && chown 1000:1000 /home/work"
# Everything runs as work (uid 1000). The Python environment is a venv
# under /opt owned by work, seeing Debian's packages: `pip install` as work
# lands there, in the container's own layer, so a commit keeps it.
# Jupyter's kernel is the venv's Python. Wheels only (nothing compiles).
# pip trusts what this machine trusts (a proxy's CA, for one) while it
# builds; the bundle is not left in the image.
index=${BERTH_PIP_INDEX_URL:+--index-url $BERTH_PIP_INDEX_URL}
cp /etc/ssl/certs/ca-certificates.crt "$root/tmp/build-ca.crt"
# (a clean environment: this machine's PIP_*/REQUESTS_CA_BUNDLE name its own paths)
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
  PIP_CERT=/tmp/build-ca.crt REQUESTS_CA_BUNDLE=/tmp/build-ca.crt SSL_CERT_FILE=/tmp/build-ca.crt \
  ${HTTPS_PROXY:+HTTPS_PROXY=$HTTPS_PROXY} ${https_proxy:+https_proxy=$https_proxy} \
  /bin/sh -c "python3 -m venv --system-site-packages /opt/python && \
  /opt/python/bin/pip install -q --no-cache-dir --only-binary=:all: $index \
    'jupyterlab>=4.2,<5' 'notebook>=7.2,<8' 'ipykernel>=6.29,<7' \
    'numpy>=1.26,<3' 'pandas>=2.2,<4' 'matplotlib>=3.8,<4' 'scipy>=1.13,<2' 'scikit-learn>=1.5,<2' && \
  /opt/python/bin/python3 -m ipykernel install --prefix=/opt/python --name python3 --display-name 'Python 3' >/dev/null" \
  >/tmp/berth-python-venv.log 2>&1 || { tail -20 /tmp/berth-python-venv.log; exit 1; }
rm -f "$root/tmp/build-ca.crt"
# Packages a user keeps in a storage folder: `pip install --user` with
# PYTHONUSERBASE=/home/work/<folder>/.local puts them in the folder, and
# every Python of a later session that mounts it (Jupyter's kernel too)
# finds them: a .pth hook adds each mounted folder's user site.
site=$(chroot "$root" /opt/python/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$here/berth_folder_sites.py" "$root$site/"
echo 'import berth_folder_sites' > "$root$site/berth-folder-sites.pth"
chroot "$root" chown -R 1000:1000 /opt/python
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
  -c 'LABEL ai.backend.service-ports="jupyter:http:8081,jupyternotebook:http:8082,sshd:tcp:2200"' \
  -c "LABEL berth.recipe=\"$recipe\"" \
  - "$tag" >/dev/null
