"""Seeded irregular-hole generator that lands in a requested ratio bucket by construction.

Brush strokes follow DeepFill v2's `brush_stroke_mask` (a polyline of random vertices with
round caps), scaled to the image size; stroke width grows with the bucket, following the
widths measured on the NVIDIA test masks (REFERENCE.md section 3). Strokes are added until the
hole passes a target drawn inside the bucket; a stroke that would overshoot the bucket's upper
edge is undone. Every (seed, bucket, index, attempt) has its own RNG stream, so any single mask
can be regenerated without generating the ones before it.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .buckets import Bucket

# Median stroke widths of the NVIDIA masks at 512 px per bucket, halved to 256 px.
_NVIDIA_WIDTH_256 = (8, 9.5, 12, 15, 17, 28)
# Where the target sits inside the bucket: NVIDIA's per-bucket means lie a little below centre.
_TARGET_SPAN = 0.65
_MAX_REJECTS = 40
_MAX_ATTEMPTS = 50


def _stroke(hole: np.ndarray, rng: np.random.Generator, width: float) -> None:
    h, w = hole.shape
    # Shorter than DeepFill v2's strokes: the NVIDIA masks have 4-12 components per mask.
    reach = math.hypot(h, w) / 16
    n_vertex = int(rng.integers(2, 9))
    width_px = max(2, int(round(rng.uniform(0.6, 1.4) * width)))
    x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
    angle = float(rng.uniform(0, 2 * math.pi))
    points = [(x, y)]
    for _ in range(n_vertex):
        angle += float(rng.uniform(-math.pi / 2, math.pi / 2))
        length = float(np.clip(rng.normal(reach, reach / 2), 0, 2 * reach))
        x = float(np.clip(x + length * math.cos(angle), 0, w - 1))
        y = float(np.clip(y + length * math.sin(angle), 0, h - 1))
        points.append((x, y))
    pts = [(int(round(px)), int(round(py))) for px, py in points]
    for a, b in zip(pts[:-1], pts[1:]):
        cv2.line(hole, a, b, 1, width_px)
    for p in pts:
        cv2.circle(hole, p, width_px // 2, 1, -1)


def _box(hole: np.ndarray, rng: np.random.Generator) -> None:
    h, w = hole.shape
    bh, bw = int(rng.integers(h // 10, h // 3)), int(rng.integers(w // 10, w // 3))
    y, x = int(rng.integers(0, h - bh)), int(rng.integers(0, w - bw))
    hole[y : y + bh, x : x + bw] = 1


def generate_hole(
    bucket: Bucket,
    index: int,
    seed: int = 0,
    size: int = 256,
    border_margin: int = 0,
    box_prob: float = 0.0,
) -> np.ndarray:
    """Return a bool (size, size) array, True on holes, whose hole ratio lies in `bucket`.

    border_margin > 0 keeps every hole pixel at least that many pixels from the image border
    (the NVIDIA set does this with 50 px at 512 for half of each bucket).
    """
    total = size * size
    usable = total if border_margin == 0 else max(0, size - 2 * border_margin) ** 2
    if usable * 100 <= bucket.lo_pct * total:
        raise ValueError(f"border margin {border_margin} leaves too little room for bucket {bucket.label}")
    width = _NVIDIA_WIDTH_256[bucket.index] * size / 256
    for attempt in range(_MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, bucket.index, index, attempt])
        lo, hi = bucket.lo_pct * total, bucket.hi_pct * total  # in units of pixels/100
        target = lo + rng.uniform(0, _TARGET_SPAN) * (hi - lo)
        hole = np.zeros((size, size), np.uint8)
        count, rejects = 0, 0
        while count * 100 <= target:
            cand = hole.copy()
            if box_prob > 0 and rng.random() < box_prob:
                _box(cand, rng)
            else:
                _stroke(cand, rng, width)
            if border_margin:
                cand[:border_margin] = 0
                cand[-border_margin:] = 0
                cand[:, :border_margin] = 0
                cand[:, -border_margin:] = 0
            cand_count = int(cand.sum())
            if cand_count * 100 > hi:
                rejects += 1
                if rejects > _MAX_REJECTS:
                    break
                continue
            hole, count = cand, cand_count
        else:
            assert bucket.contains(count, total)
            return hole.astype(bool)
    raise RuntimeError(f"could not fill bucket {bucket.label} for index {index} in {_MAX_ATTEMPTS} attempts")


def random_hole(rng: np.random.Generator, size: int, max_ratio_pct: int = 40, box_prob: float = 0.1) -> np.ndarray:
    """A training hole with ratio drawn uniformly up to `max_ratio_pct` (the paper trains on 0-40%)."""
    from .buckets import BUCKETS

    usable = [b for b in BUCKETS if b.hi_pct <= max_ratio_pct]
    bucket = usable[int(rng.integers(len(usable)))]
    return generate_hole(bucket, int(rng.integers(2**31)), seed=int(rng.integers(2**31)), size=size, box_prob=box_prob)
