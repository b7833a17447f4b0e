"""A frozen mask set on disk: PNGs (255 = hole) plus a manifest of hashes and measurements.

Layout: DIR/manifest.csv and DIR/<bucket>/<name>.png. `verify` re-hashes and re-measures
everything; `pick` pairs the i-th image of a dataset with a mask per bucket without any RNG,
so every method and every resumed run sees the same (image, mask) pairs.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.image_io import IMAGE_SUFFIXES, hidden, not_a_folder, unreadable
from ..errors import InputError, merge_conflicted, stand_in
from .buckets import BUCKET_NAMES, BUCKETS, Bucket, get_bucket
from .measure import measure_hole

MANIFEST = "manifest.csv"
COLUMNS = [
    "file", "sha256", "bucket", "ratio", "hole_pixels", "components", "touches_border",
    "border_distance", "stroke_width", "source",
]
#: the frozen set: masks/ of the checkout this package runs from, or, installed from a wheel
#: (pip install without -e), the copy it carries as inpaintbench/frozen_masks (pyproject.toml)
_CHECKOUT_MASKS = Path(__file__).resolve().parents[2] / "masks" / "irregular256"
_CARRIED_MASKS = Path(__file__).resolve().parents[1] / "frozen_masks" / "irregular256"
DEFAULT_MASK_DIR = (_CARRIED_MASKS if not (_CHECKOUT_MASKS / MANIFEST).is_file() and (_CARRIED_MASKS / MANIFEST).is_file()
                    else _CHECKOUT_MASKS)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def encode_png(hole: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # Fixed encoder settings make the bytes, and so the recorded sha256, reproducible.
    Image.fromarray(np.where(hole, 255, 0).astype(np.uint8), "L").save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def read_hole_png(path: Path, size: int | None = None, data: bytes | None = None) -> np.ndarray:
    """Read a stored hole mask (from `data`, its bytes already read, if given); anything but a
    two-level 0/255 image of the right size stops."""
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            im.load()
            arr = np.asarray(im.convert("L") if im.mode not in ("L", "1") else im)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable mask image ({unreadable(e, path, data)})") from None
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if size is not None and arr.shape != (size, size):
        raise InputError(f"{path}: mask is {arr.shape[1]}x{arr.shape[0]}, expected {size}x{size}")
    levels = np.unique(arr)
    if not set(levels.tolist()) <= {0, 255}:
        raise InputError(f"{path}: mask has values {levels[:6].tolist()}..., expected only 0 and 255 (255 = hole)")
    return arr == 255


@dataclass(frozen=True)
class MaskEntry:
    file: str
    sha256: str
    bucket: str
    ratio: float
    hole_pixels: int


def manifest_of(root: Path | str) -> Path:
    """The manifest of the mask set in `root`; the one refusal of a folder that is no set, for every command."""
    root = Path(root)
    if root.is_file() and root.name == MANIFEST:  # the set's manifest given for the set
        raise InputError(f"{root}: a mask set's manifest; give the set's folder, {root.parent}")
    if not (root / MANIFEST).is_file():
        parent = root.parent / MANIFEST
        if root.is_dir() and parent.is_file() and parent.read_text(errors="replace").startswith(",".join(COLUMNS[:3])):
            # one bucket's folder of a set (a manifest.csv of something else above is no set)
            raise InputError(f"{root}: a folder inside the mask set {root.parent}; give the set's folder, {root.parent}"
                             + (f" (with --buckets {root.name} for that bucket alone)" if root.name in BUCKET_NAMES else ""))
        if root.is_dir() and (images := sorted(f.name for f in root.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES
                                               and not f.name.startswith("."))):
            # masks of one's own (NVIDIA's 12,000) given as they unpack: a set is hashed, measured and bucketed
            raise InputError(f"{root}: no {MANIFEST}, but {len(images)} images ({', '.join(images[:2])}"
                             f"{', ...' if len(images) > 2 else ''}): masks of your own become a mask set with "
                             f"`inpaintbench masks import {root} --polarity hole-white|hole-black --out DIR`; give that DIR")
        # a file given was "no such folder", which it is not
        why = f"no {MANIFEST}" if root.is_dir() else not_a_folder(root)
        raise InputError(f"{root}: {why}; a mask set is a folder made by `inpaintbench masks generate` or `masks import`")
    # a set committed on two branches and merged: the marker lines read as masks "listed but
    # missing", and a run took the rows around them as the set, under a new id, without a word
    if merge_conflicted((root / MANIFEST).read_text(errors="replace")):
        raise InputError(f"{root / MANIFEST}: holds merge-conflict markers: resolve them, then `inpaintbench masks "
                         f"verify {root}`")
    return root / MANIFEST


class MaskSet:
    def __init__(self, root: Path):
        self.root = Path(root)
        manifest = manifest_of(self.root)
        with open(manifest, newline="") as f:
            self.rows = list(csv.DictReader(f))
        self.manifest_sha256 = sha256_file(manifest)
        self.by_bucket: dict[str, list[MaskEntry]] = {b.name: [] for b in BUCKETS}
        for r in self.rows:
            if r["bucket"]:
                self.by_bucket[r["bucket"]].append(
                    MaskEntry(r["file"], r["sha256"], r["bucket"], float(r["ratio"]), int(r["hole_pixels"]))
                )
        # Order within a bucket by a hash of the file name: spreads border-constrained and
        # free masks evenly over the first images, with no RNG that could change between versions.
        for entries in self.by_bucket.values():
            entries.sort(key=lambda e: hashlib.sha256(e.file.encode()).hexdigest())

    @property
    def id(self) -> str:
        return f"{self.root.name}@{self.manifest_sha256[:12]}"

    def pick(self, bucket: Bucket | str, image_index: int) -> MaskEntry:
        b = get_bucket(bucket) if isinstance(bucket, str) else bucket
        entries = self.by_bucket[b.name]
        if not entries:
            held = [name for name, e in self.by_bucket.items() if e]
            raise InputError(f"{self.root}: no masks in bucket {b.label}; it has masks in "
                             + (", ".join(held) + ": choose those with --buckets" if held else "no bucket"))
        return entries[image_index % len(entries)]

    def check_size(self, size: int, buckets: list[Bucket]) -> None:
        """A set of another size stopped a run at its first pair, after the method had loaded and
        the bar was drawn: said before any work, from one mask's header per bucket (empty buckets
        and unreadable masks are left to pick() and load(), which name them)."""
        for b in buckets:
            if not (entries := self.by_bucket.get(b.name)):
                continue
            try:
                with Image.open(self.root / entries[0].file) as im:
                    w, h = im.size
            except (OSError, ValueError):
                continue
            if (w, h) != (size, size):
                # a set scaled up keeps its hole ratios but its strokes turn blocky: a new one is drawn too
                raise InputError(f"{self.root}: its masks are {w}x{h} ({entries[0].file}), the evaluation is at "
                                 f"{size}x{size}; `inpaintbench masks import {self.root} --polarity hole-white --size "
                                 f"{size} --out NEW_DIR` makes a copy of the set at that size"
                                 + (f", `inpaintbench masks generate --size {size} --out NEW_DIR` draws a new one (give "
                                    f"it as --masks)" if size > w else ""))

    def load(self, entry: MaskEntry, size: int) -> np.ndarray:
        path = self.root / entry.file
        if not path.is_file():
            raise InputError(f"{path}: listed in {MANIFEST} but missing")
        data = path.read_bytes()
        # the set's id hashes the manifest only; each record claims its mask's sha256, so check it
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            if note := stand_in(path, data):
                raise InputError(f"{path}: {note}")
            raise InputError(f"{path}: sha256 differs from {MANIFEST}, so this is not the mask set {self.id} names "
                             f"(`inpaintbench masks verify {self.root}` lists every difference)")
        return read_hole_png(path, size, data)


def write_manifest(root: Path, rows: list[dict]) -> Path:
    path = Path(root) / MANIFEST
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in sorted(rows, key=lambda r: r["file"]):
            w.writerow({k: r[k] for k in COLUMNS})
    tmp.replace(path)
    return path


def manifest_row(file: str, data: bytes, hole: np.ndarray, source: str) -> dict:
    st = measure_hole(hole)
    return {
        "file": file,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bucket": st.bucket,
        "ratio": f"{st.ratio:.6f}",
        "hole_pixels": st.hole_pixels,
        "components": st.components,
        "touches_border": int(st.touches_border),
        "border_distance": st.border_distance,
        "stroke_width": st.stroke_width,
        "source": source,
    }


def verify(root: Path) -> list[str]:
    """Every problem found, as one line each; an empty list means the set is intact."""
    ms = MaskSet(root)
    problems = []
    listed = {r["file"] for r in ms.rows}
    on_disk = {p.relative_to(ms.root).as_posix() for p in ms.root.rglob("*.png") if not hidden(p, ms.root)}
    problems += [f"{f}: on disk but not in {MANIFEST}" for f in sorted(on_disk - listed)]
    for r in ms.rows:
        path = ms.root / r["file"]
        if not path.is_file():
            problems.append(f"{r['file']}: listed but missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != r["sha256"]:
            if note := stand_in(path, data):  # one line for it, not a second as an unreadable mask
                problems.append(f"{r['file']}: {note}")
                continue
            problems.append(f"{r['file']}: sha256 differs from the manifest")
        try:
            hole = read_hole_png(path, data=data)
        except InputError as e:
            problems.append(str(e))
            continue
        st = measure_hole(hole)
        if st.hole_pixels != int(r["hole_pixels"]) or st.bucket != r["bucket"]:
            problems.append(f"{r['file']}: measured {st.hole_pixels} hole pixels in bucket {st.bucket or 'none'}, "
                            f"manifest says {r['hole_pixels']} in {r['bucket'] or 'none'}")
        if st.components != int(r["components"]) or int(st.touches_border) != int(r["touches_border"]):
            problems.append(f"{r['file']}: components/border flag differ from the manifest")
    return problems
