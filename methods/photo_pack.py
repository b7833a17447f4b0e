"""The training and validation photos, copied for a machine that lacks their packages (a lent
GPU machine reached over a copy of this tree, whose whole transfer may be 64 MiB).

    python -m methods.photo_pack DEST        (`.device/pack.sh` runs it with DEST .gpu/photos)

Each photo lands at its own path under DEST (a bundle member BUNDLE#MEMBER at DEST/BUNDLE/MEMBER,
which methods/qt_resource.py reads like the bundle). Where the trainer would downscale a photo
(load_photo: to 640 px short side, bicubic), the copy holds those downscaled pixels instead, as
lossless WebP under the original name, if that is smaller than the file: the trainer decodes by
content, finds the photo at 640 px and leaves it as it is, so it trains on the same pixels as from
the original (checked for every photo as it is packed). That halves the big wallpapers.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from . import qt_resource
from .trainer import DEFAULT_VAL_PHOTOS, PHOTO_SETS, load_photo


def original_bytes(f: str) -> bytes:
    bundle, _, member = f.partition("#")
    return qt_resource.read_member(bundle, member) if member and not Path(f).exists() else Path(f).read_bytes()


def packed_bytes(f: str) -> bytes:
    """The bytes to carry for photo `f`: its file, or the trainer's pixels as lossless WebP when smaller."""
    raw = original_bytes(f)
    pixels = load_photo(Path(f))
    if min(Image.open(io.BytesIO(raw)).size) <= min(pixels.shape[:2]):
        return raw  # the trainer does not downscale it
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="WEBP", lossless=True, quality=100, method=4)
    if len(buf.getvalue()) >= len(raw):
        return raw
    back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if not np.array_equal(back, pixels):  # never carry pixels the trainer would not have used
        raise RuntimeError(f"{f}: lossless WebP did not round-trip")
    return buf.getvalue()


def destination(dest: Path, f: str) -> Path:
    bundle, _, member = f.partition("#")
    return dest / Path(bundle).relative_to("/") / member


def main(argv=None) -> None:
    dest = Path((argv or sys.argv[1:])[0])
    photos = sum(PHOTO_SETS.values(), list(DEFAULT_VAL_PHOTOS))
    before = after = 0
    for f in photos:
        data = packed_bytes(f)
        out = destination(dest, f)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        before += len(original_bytes(f))
        after += len(data)
    print(f"{len(photos)} photos into {dest}: {after / 2**20:.1f} MiB ({before / 2**20:.1f} MiB as shipped)")


if __name__ == "__main__":
    main()
