"""The embedded demo set: 256x256 crops of natural photos that ship inside installed packages.

Nothing is downloaded. Each photo gives one crop of its full short side and three crops of
0.6 of it (top-left, centre, bottom-right), all resized to 256 with PIL bicubic (antialiased
when shrinking). `demo_manifest.csv` beside this file records the source package and file,
the source's sha256, the crop box and the sha256 of the resulting pixels; loading checks the
source hash so nobody silently evaluates on different pixels.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InputError
from .base import Dataset
from .image_io import decode_rgb

# (image id stem, package, path inside the package)
PHOTOS = (
    ("astronaut", "skimage", "data/astronaut.png"),
    ("chelsea", "skimage", "data/chelsea.png"),
    ("coffee", "skimage", "data/coffee.png"),
    ("rocket", "skimage", "data/rocket.jpg"),
    ("motorcycle", "skimage", "data/motorcycle_left.png"),
    ("china", "sklearn", "datasets/images/china.jpg"),
    ("flower", "sklearn", "datasets/images/flower.jpg"),
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
)
MANIFEST = Path(__file__).with_name("demo_manifest.csv")
SMALL = 0.6


def _package_file(package: str, rel: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"demo dataset: package {package!r} is not installed (pip install the project's dependencies)")
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    if not path.is_file() and package == "skimage" and rel.startswith("data/"):
        # scikit-image 0.27 keeps its sample photos in another package (_skimage2/data), the
        # folder skimage.data.data_dir names; the manifest keeps the path the photos were found at
        import skimage.data

        path = Path(skimage.data.data_dir) / rel.removeprefix("data/")
    if not path.is_file():
        raise InputError(f"demo dataset: {package} has no {rel}; the demo needs that photo")
    return path


def source_files() -> dict[str, Path]:
    """The photo behind each group of demo crops, by image-id stem: what training data must not show."""
    return {stem: _package_file(package, rel) for stem, package, rel in PHOTOS}


def crop_boxes(h: int, w: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(suffix, (left, top, right, bottom)) for each crop of an h x w photo."""
    s = min(h, w)
    t = round(SMALL * s)
    full = ((w - s) // 2, (h - s) // 2)
    boxes = [("full", (full[0], full[1], full[0] + s, full[1] + s))]
    for suffix, (x, y) in (("tl", (0, 0)), ("c", ((w - t) // 2, (h - t) // 2)), ("br", (w - t, h - t))):
        boxes.append((suffix, (x, y, x + t, y + t)))
    return boxes


def build_manifest(size: int = 256) -> list[dict]:
    rows = []
    for stem, package, rel in PHOTOS:
        src = _package_file(package, rel)
        img = decode_rgb(src)
        for suffix, box in crop_boxes(*img.shape[:2]):
            crop = _crop(img, box, size)
            rows.append({
                "image_id": f"{stem}_{suffix}", "package": package, "file": rel,
                "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
                "box": " ".join(map(str, box)), "size": size,
                "pixels_sha256": hashlib.sha256(crop.tobytes()).hexdigest(),
            })
    return rows


def _crop(img: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).crop(box).resize((size, size), Image.BICUBIC))


@cache
def _source(package: str, rel: str, expected_sha: str) -> np.ndarray:
    path = _package_file(package, rel)
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    if got != expected_sha:
        raise InputError(f"demo dataset: {path} has sha256 {got[:16]}..., the manifest expects {expected_sha[:16]}...; "
                         f"this {package} version ships a different photo, so demo numbers would not be comparable")
    return decode_rgb(path)


class DemoDataset(Dataset):
    name = "demo"

    def __init__(self, root=None, size: int = 256, resize: str = "resize-crop"):
        if root is not None:  # ignored, the run would look like one over the user's folder and be the demo's
            raise InputError(f"the demo dataset is embedded and takes no --data-root (got {root}); "
                             f"for a folder of your images use --dataset folder --data-root {root}")
        if size != 256:
            raise InputError(f"the demo dataset is defined at 256x256 only (its manifest hashes each crop's pixels at "
                             f"that size), not {size}x{size}; for another size use --dataset folder --data-root DIR")
        super().__init__(size)
        with open(MANIFEST, newline="") as f:
            self.rows = {r["image_id"]: r for r in csv.DictReader(f)}

    def ids(self) -> list[str]:
        return list(self.rows)

    def load(self, image_id: str) -> np.ndarray:
        r = self.rows.get(image_id)
        if r is None:  # a report of a run made with another version's demo list
            raise InputError(f"the demo dataset has no image {image_id!r}")
        box = tuple(int(v) for v in r["box"].split())
        return _crop(_source(r["package"], r["file"], r["source_sha256"]), box, self.size)

    def describe(self) -> dict:
        return {**super().describe(), "manifest_sha256": hashlib.sha256(MANIFEST.read_bytes()).hexdigest()}
