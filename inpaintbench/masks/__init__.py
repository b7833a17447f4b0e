"""Hole masks: buckets, the seeded generator, frozen mask sets and their manifests."""
from .buckets import BUCKET_NAMES, BUCKETS, Bucket, bucket_of, get_bucket, get_buckets
from .generator import generate_hole, random_hole
from .maskset import DEFAULT_MASK_DIR, MaskEntry, MaskSet, read_hole_png, verify
from .measure import HoleStats, measure_hole

__all__ = [
    "BUCKETS", "BUCKET_NAMES", "Bucket", "bucket_of", "get_bucket", "get_buckets", "generate_hole", "random_hole",
    "DEFAULT_MASK_DIR", "MaskEntry", "MaskSet", "read_hole_png", "verify", "HoleStats", "measure_hole",
]
