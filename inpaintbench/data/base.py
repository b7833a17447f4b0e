"""The dataset interface: a deterministic list of ids, and one decoded RGB image per id."""
from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from ..errors import InputError
from .image_io import decode_rgb, fit_to_size

log = logging.getLogger("inpaintbench")
#: images named in the upsampling warning; a run loads each image once for its reference
#: features and again per bucket, and Paris StreetView's 100 test images are all 227 px
UPSAMPLED_NAMED = 3


def ids_sha256(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def other_images(dataset: dict, other: dict) -> bool:
    """Two runs' datasets (their manifests' "dataset", or a check baseline) scored other images.
    The images a run scored are the first `evaluated_images` of the list (--limit), each with
    masks that follow from its place there: where both carry the hash of those, it decides (two
    --limit runs over folders that differ past them scored the same pairs); else the whole
    list's hash. Manifests and baselines made before either was written are taken at their word."""
    for key in ("evaluated_ids_sha256", "ids_sha256"):
        a, b = dataset.get(key), other.get(key)
        if a and b:
            return a != b
    return False


def refuse_out_inside(out: Path, root: Path | str, writes: str) -> None:
    """A command's --out inside a dataset's folder of images: what it writes there (a run's
    --save-images, an export's inputs, a report's grids) would be listed as images of the dataset
    by the next run over it, whose list, and so every image's masks, would then be another."""
    where, inner = Path(out).resolve(), Path(root).resolve()
    if where == inner or inner in where.parents:
        raise InputError(f"--out {out} is inside the dataset's folder {root}: {writes} would be listed as "
                         f"images of the dataset by the next run over it; give a folder outside it")


class Dataset(ABC):
    name: str = ""

    def __init__(self, size: int = 256):
        self.size = size

    @abstractmethod
    def ids(self) -> list[str]: ...

    @abstractmethod
    def load(self, image_id: str) -> np.ndarray:
        """uint8 array (size, size, 3)."""

    def describe(self) -> dict:
        ids = self.ids()
        # each image's masks follow from its place in this list: a run resumes, and runs share a
        # table, only over the same list (a folder with a file added or removed is another one)
        return {"name": self.name, "size": self.size, "images": len(ids), "ids_sha256": ids_sha256(ids)}

    def __iter__(self):
        for i in self.ids():
            yield i, self.load(i)

    def refuse_inside(self, out: Path, writes: str) -> None:
        """Refuse an --out among the dataset's files (see FileDataset's); embedded data has none."""


class FileDataset(Dataset):
    """Images that are files under a root; ids are paths relative to it, in sorted order, or, given
    a dict, its keys (a dataset whose published list names its images otherwise than the files)."""

    def __init__(self, root: Path, files: list[Path] | dict[str, Path], size: int = 256, resize: str = "resize-crop"):
        super().__init__(size)
        self.root, self.resize = Path(root), resize
        self._files = dict(files) if isinstance(files, dict) else {p.relative_to(self.root).as_posix(): p for p in files}
        self._upsampled: set[str] = set()

    def ids(self) -> list[str]:
        return list(self._files)

    def load(self, image_id: str) -> np.ndarray:
        path = self._files.get(image_id)
        if path is None:  # a report's grids ask for a run's images, which may be gone since
            raise InputError(f"{self.root}: no image {image_id!r} (removed or renamed since it was scored?)")
        img = decode_rgb(path)
        if self.resize == "resize-crop" and min(img.shape[:2]) < self.size:
            self._note_upsampled(image_id, path, img.shape)
        return fit_to_size(img, self.size, self.resize, str(path))

    def _note_upsampled(self, image_id: str, path: Path, shape: tuple) -> None:
        if image_id in self._upsampled:
            return
        self._upsampled.add(image_id)
        if len(self._upsampled) <= UPSAMPLED_NAMED:
            log.warning("%s: %dx%d is smaller than %d; upsampled (bicubic)", path, shape[1], shape[0], self.size)
        elif len(self._upsampled) == UPSAMPLED_NAMED + 1:
            log.warning("%s: more images smaller than %d, upsampled the same way (not named again)", self.root, self.size)

    def describe(self) -> dict:
        return {**super().describe(), "root": str(self.root), "resize": self.resize}

    def refuse_inside(self, out: Path, writes: str) -> None:
        refuse_out_inside(out, self.root, writes)
