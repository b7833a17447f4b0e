"""Loaders for the paper's datasets over a user's own copy, in the official layouts (REFERENCE.md s5)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .base import FileDataset
from .image_io import hidden


def _find_dir(root: Path | None, names: tuple[str, ...], dataset: str, expected: str) -> Path:
    if root is None:
        raise InputError(f"dataset '{dataset}' needs --data-root; expected layout: {expected}")
    root = Path(root)
    for cand in [root, *(root / n for n in names)]:
        if cand.is_dir() and cand.name in names:
            return cand
    raise InputError(f"{root}: not a {dataset} root; expected layout: {expected}")


class Places2(FileDataset):
    """Places365-Standard validation set (36,500 images), the paper's Places2 test images."""

    name = "places2"
    EXPECTED = "ROOT/val_256/Places365_val_00000001.jpg ... Places365_val_00036500.jpg (or val_large/)"

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        # at a --size above 256 the full-size images, where a copy has both: val_256's would be upsampled
        d = _find_dir(root, ("val_large", "val_256") if size > 256 else ("val_256", "val_large"), self.name, self.EXPECTED)
        files = sorted(d.glob("Places365_val_*.jpg"))
        if not files:
            raise InputError(f"{d}: no Places365_val_*.jpg files; expected layout: {self.EXPECTED}")
        super().__init__(d, files, size, resize)


class CelebAHQ(FileDataset):
    """CelebA-HQ 256 px, test split = the 2,000 names in val_shuffled.flist (as in LaMa's fetch_data)."""

    name = "celeba-hq"
    EXPECTED = ("ROOT/data256x256/00001.jpg ... 30000.jpg, and ROOT/val_shuffled.flist listing the 2,000 "
                "test images (from advimman/lama fetch_data/)")

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        d = _find_dir(root, ("data256x256",), self.name, self.EXPECTED)
        flist = next((p for p in (d / "val_shuffled.flist", d.parent / "val_shuffled.flist") if p.is_file()), None)
        if flist is None:
            raise InputError(f"{d}: no val_shuffled.flist beside it; expected layout: {self.EXPECTED}")
        names = [Path(line.strip()).name for line in flist.read_text().splitlines() if line.strip()]
        files = [d / n for n in names]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise InputError(f"{flist}: {len(missing)} listed images are missing, e.g. {missing[0]}")
        super().__init__(d, sorted(files), size, resize)


class ParisStreetView(FileDataset):
    """Paris StreetView's 100 test images (227 px; upsampled to the evaluation size by default)."""

    name = "paris"
    EXPECTED = "ROOT/paris_eval_gt/001_im.png ... 100_im.png"

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        d = _find_dir(root, ("paris_eval_gt",), self.name, self.EXPECTED)
        files = sorted(f for f in d.glob("*_im.png") if not hidden(f, d))
        if not files:
            raise InputError(f"{d}: no *_im.png files; expected layout: {self.EXPECTED}")
        super().__init__(d, files, size, resize)
