#!/bin/bash
# Sourced by the device jobs: the wheels a bare GPU machine lacks and the default photos at their
# /usr/share paths, both from .gpu/ (made here by pack.sh; name ".gpu" in the call's carry).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
# -n: a photo already there stays, a set added since is copied; where a package is installed (a
# bundle file where .gpu has its folder) cp complains and the installed file is used
cp -rn .gpu/photos/usr / 2>/dev/null || echo "setup: some photos were already installed here; those are used"
[ "${DEVICE:-cuda}" = cuda ] && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
true
