#!/usr/bin/env bash
# The suite on a Python newer than this machine's, Debian sid's python3.X in a chroot, as pip
# resolves the project there today: bash .ci/newer_python.sh 3.15   (the committed HEAD, cloned)
# Needs root and debootstrap (apt-get install debootstrap). The first call builds the chroot;
# building it and installing the project took under 4 min here, the suite under 5 (3.15.2,
# 2 cores). The chroot has no photo packages, so their tests skip, as on CI.
set -euo pipefail
v=${1:?a Python version Debian sid has, e.g. 3.15}
root=${CHROOT:-/tmp/sid}
cd "$(dirname "$0")/.."
if [ ! -x "$root/usr/bin/python$v" ]; then
  if [ -d "$root/usr" ]; then  # a chroot built for another version
    chroot "$root" bash -c "apt-get -o Acquire::Check-Valid-Until=false update -q && apt-get install -y -q python$v python$v-venv"
  else
    debootstrap --variant=minbase --include="python$v,python$v-venv,libgl1,libglib2.0-0t64,ca-certificates" \
      sid "$root" http://deb.debian.org/debian
  fi
fi
mounted=()  # only these are unmounted at the end: a mount made before (by hand) is left as it was
for d in proc sys dev; do
  if ! mountpoint -q "$root/$d"; then mount --bind "/$d" "$root/$d"; mounted=("$d" ${mounted[@]+"${mounted[@]}"}); fi
done
trap 'for d in ${mounted[@]+"${mounted[@]}"}; do umount "$root/$d" 2>/dev/null || umount -l "$root/$d"; done' EXIT  # -l: a process of the suite may still be ending
cp /etc/resolv.conf "$root/etc/"
# a network that re-signs TLS (this project's machines) needs its CA inside the chroot as well
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$root/etc/"; fi
rm -rf "$root/root/inpaintbench"
git clone -q . "$root/root/inpaintbench"
chroot "$root" env -u PIP_FIND_LINKS bash -c "cd /root/inpaintbench && rm -rf /opt/v$v && python$v -m venv /opt/v$v &&
  /opt/v$v/bin/pip install -q -e '.[test]' && /opt/v$v/bin/python -V && /opt/v$v/bin/python -m pytest -q -p no:cacheprovider"
