"""The training and validation photos, copied for a machine that lacks their packages (a lent
GPU machine reached over a copy of this tree, whose whole transfer may be 64 MiB).

    python -m methods.training.photo_pack DEST        (`.device/pack.sh` runs it with DEST .gpu/photos)

Each photo lands at its own path under DEST (a bundle member BUNDLE#MEMBER at DEST/BUNDLE/MEMBER,
which methods/training/qt_resource.py reads like the bundle). Where the trainer would downscale a photo
(load_photo: to 640 px short side, bicubic), the copy holds those downscaled pixels instead, as
lossless WebP under the original name, if that is smaller than the file: the trainer decodes by
content, finds the photo at 640 px and leaves it as it is, so it trains on the same pixels as from
the original (checked for every photo as it is packed). That halves the big wallpapers.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from inpaintbench.errors import one_line_errors

from .photos import (
    DEFAULT_VAL_PHOTOS,
    PHOTO_SETS,
    bundle_member,
    load_photo,
    photo_bytes,
)


def packed_bytes(f: str, raw: bytes | None = None) -> bytes:
    """The bytes to carry for photo `f` (stored as `raw`, read if not given): its file, or the
    trainer's pixels as lossless WebP when smaller."""
    raw = photo_bytes(Path(f)) if raw is None else raw
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
    """Where under `dest` photo `f` goes: its own path, a bundle member's inside a folder named like the bundle."""
    bm = bundle_member(Path(f))
    return dest / (Path(bm[0]).relative_to("/") / bm[1] if bm else Path(f).relative_to("/"))


@one_line_errors
def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m methods.training.photo_pack", description=__doc__.split("\n\n")[0])
    p.add_argument("dest", type=Path, help="folder the photos go under, each at its own path")
    dest = p.parse_args(argv).dest
    photos = sum(PHOTO_SETS.values(), list(DEFAULT_VAL_PHOTOS))
    before = after = 0
    for f in photos:
        raw = photo_bytes(Path(f))
        data = packed_bytes(f, raw)
        out = destination(dest, f)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        before += len(raw)
        after += len(data)
    print(f"{len(photos)} photos into {dest}: {after / 2**20:.1f} MiB ({before / 2**20:.1f} MiB as shipped)")


if __name__ == "__main__":
    main()
