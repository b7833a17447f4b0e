"""Hole-ratio buckets, compared with integer pixel counts so no float rounding moves a mask.

Buckets are left-open, right-closed as in the NVIDIA irregular-mask test set:
(0.01, 0.1], (0.1, 0.2], ..., (0.5, 0.6]. The paper's Table 1 labels them 0-10% ... 50-60%.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, refuse_repeats


@dataclass(frozen=True)
class Bucket:
    lo_pct: int
    hi_pct: int
    index: int

    @property
    def name(self) -> str:
        # The first bucket starts at 1% but is called 0-10 everywhere, as in the paper.
        return f"{0 if self.index == 0 else self.lo_pct}-{self.hi_pct}"

    @property
    def label(self) -> str:
        return self.name + "%"

    def contains(self, hole_pixels: int, total_pixels: int) -> bool:
        return hole_pixels * 100 > self.lo_pct * total_pixels and hole_pixels * 100 <= self.hi_pct * total_pixels


_EDGES = (1, 10, 20, 30, 40, 50, 60)
BUCKETS: tuple[Bucket, ...] = tuple(Bucket(lo, hi, i) for i, (lo, hi) in enumerate(zip(_EDGES[:-1], _EDGES[1:])))
BUCKET_NAMES = tuple(b.name for b in BUCKETS)


def bucket_of(hole_pixels: int, total_pixels: int) -> Bucket | None:
    for b in BUCKETS:
        if b.contains(hole_pixels, total_pixels):
            return b
    return None


def get_bucket(name: str) -> Bucket:
    for b in BUCKETS:
        if name in (b.name, b.label):
            return b
    raise InputError(f"unknown bucket {name!r}; expected one of {', '.join(BUCKET_NAMES)}")


def get_buckets(names: list[str]) -> list[Bucket]:
    """--buckets as buckets. One given twice ('10-20' and '10-20%' too) is refused: each pair
    would be scored twice, doubling its weight in the bucket's N, interval and FID."""
    if isinstance(names, str):  # RunConfig(buckets="10-20") from Python: each character was a bucket
        names = [names]
    chosen = [get_bucket(n) for n in names]
    if not chosen:  # buckets=[] from Python: a run of no pairs ended in numpy's "cannot mmap an empty file"
        raise InputError(f"--buckets: none given; buckets: {', '.join(b.name for b in BUCKETS)}")
    refuse_repeats("--buckets", [b.name for b in chosen])
    return chosen
