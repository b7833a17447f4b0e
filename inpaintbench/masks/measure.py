"""Measurements of a hole mask, shared by the manifest writer, `masks verify` and `masks stats`."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from skimage.measure import label
from skimage.morphology import skeletonize

from .buckets import bucket_of


@dataclass
class HoleStats:
    hole_pixels: int
    total_pixels: int
    ratio: float
    bucket: str  # "" when outside every bucket
    components: int  # 4-connected, as in REFERENCE.md section 3
    touches_border: bool
    border_distance: int  # pixels between the image edge and the nearest hole pixel
    stroke_width: float  # 2 * median inscribed radius along the skeleton - 1

    def as_dict(self) -> dict:
        return asdict(self)


def measure_hole(hole: np.ndarray) -> HoleStats:
    hole = np.asarray(hole, bool)
    h, w = hole.shape
    count = int(hole.sum())
    b = bucket_of(count, h * w)
    if count:
        ys, xs = np.nonzero(hole)
        border_distance = int(min(ys.min(), xs.min(), h - 1 - ys.max(), w - 1 - xs.max()))
        # Pad with background so a hole touching the border is not treated as extending past it.
        dist = ndimage.distance_transform_edt(np.pad(hole, 1))[1:-1, 1:-1]
        radii = dist[skeletonize(hole)]
        stroke_width = float(2 * np.median(radii) - 1) if radii.size else 0.0
    else:
        border_distance, stroke_width = min(h, w) // 2, 0.0
    return HoleStats(
        hole_pixels=count,
        total_pixels=h * w,
        ratio=count / (h * w),
        bucket=b.name if b else "",
        components=int(label(hole, connectivity=1).max()),
        touches_border=border_distance == 0 and count > 0,
        border_distance=border_distance,
        stroke_width=round(stroke_width, 3),
    )
