"""Loaders for the paper's datasets over a user's own copy, in the official layouts (REFERENCE.md s5)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InputError, counted
from .base import FileDataset
from .image_io import hidden, not_a_folder


def _find_dir(root: Path | None, names: tuple[str, ...], dataset: str, expected: str) -> Path:
    if root is None:
        raise InputError(f"dataset '{dataset}' needs --data-root; expected layout: {expected}")
    root = Path(root)
    for cand in [root, *(root / n for n in names)]:
        if cand.is_dir() and cand.name in names:
            return cand
    why = "" if root.is_dir() else f" ({not_a_folder(root)})"
    raise InputError(f"{root}: not a {dataset} root{why}; expected layout: {expected}")


class Places2(FileDataset):
    """Places365-Standard validation set (36,500 images), the paper's Places2 test images. The
    official release comes flat (val_256/, val_large/) or in its "easy format" (the 256 px images
    in one folder per scene category, places365_standard/val/CATEGORY/); LaMa's fetch_data script
    unpacks val_large.tar flat into places_standard_dataset/original/val/. Ids are the file names in
    each, so one image gets the same masks from any copy."""

    name = "places2"
    EXPECTED = ("ROOT/val_256/Places365_val_00000001.jpg ... Places365_val_00036500.jpg (or val_large/), "
                "or ROOT/places365_standard/val/CATEGORY/Places365_val_*.jpg (the easy format), "
                "or LaMa's ROOT/places_standard_dataset/original/val/Places365_val_*.jpg")

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        # at a --size above 256 the full-size images, where a copy has both: val_256's would be upsampled
        flat = ("val_large", "val_256") if size > 256 else ("val_256", "val_large")
        try:
            d = _find_dir(root, flat, self.name, self.EXPECTED)
        except InputError:  # no flat folder: a val/ of the easy format's or LaMa's, else the flat layout's error
            if root is None or (easy := _places_val_folder(Path(root))) is None:
                raise
            d, files = easy
        else:
            files = sorted(d.glob("Places365_val_*.jpg"))
            if not files:
                raise InputError(f"{d}: no Places365_val_*.jpg files; expected layout: {self.EXPECTED}")
        super().__init__(d, files, size, resize)


def _places_val_folder(root: Path) -> tuple[Path, dict[str, Path]] | None:
    """A val/ folder of the easy format (by category) or LaMa's (flat) under `root` (or `root`
    itself) and its images by file name; None where `root` holds none. LaMa's own val/ beside
    original/ holds its masked crops, as PNG, and is passed over."""
    for d in (root / "places365_standard" / "val", root / "places_standard_dataset" / "original" / "val",
              root / "original" / "val", root / "val", root):
        if d.name != "val" or not d.is_dir():
            continue
        files: dict[str, Path] = {}
        for f in sorted(d.rglob("Places365_val_*.jpg")):
            if hidden(f, d):
                continue
            if f.name in files:  # one image in two categories: which one a run scores would be a guess
                where = sorted(g.parent.relative_to(d).as_posix() for g in (files[f.name], f))
                raise InputError(f"{d}: {f.name} is in two category folders ({where[0]}/, {where[1]}/); keep one")
            files[f.name] = f
        if files:
            return d, dict(sorted(files.items()))
    return None


#: names of data256x256.zip (00001.jpg ... 30000.jpg) and of LaMa's lists and prepared folders
#: (0.jpg ... 29999.jpg: its fetch_data script renames the zip's N.jpg to N-1)
ZIP_NAME, LAMA_NAME = re.compile(r"\d{5}\.jpg"), re.compile(r"(0|[1-9]\d{0,4})\.jpg")
#: folders LaMa's celebahq_dataset_prepare.sh moves its 2,000 test images into (newer, older script)
LAMA_TEST_DIRS = ("visual_test_source_256", "visual_test_256")


def _celeba_naming(names, where: str) -> str | None:
    """'zip' or 'lama' by the names that only one of them has (zip: 00001 ... 09999 padded; LaMa:
    0 ... 9999 unpadded); None where every name is 10000 ... 29999, a file of either."""
    zip_only = any(ZIP_NAME.fullmatch(n) and n.startswith("0") for n in names)
    lama_only = any(LAMA_NAME.fullmatch(n) and len(n) < 9 for n in names)
    if zip_only and lama_only:
        raise InputError(f"{where}: holds both data256x256.zip's names (00001.jpg ...) and LaMa's (0.jpg ...), "
                         f"which name other images; keep one of the two")
    return "zip" if zip_only else "lama" if lama_only else None


class CelebAHQ(FileDataset):
    """CelebA-HQ 256 px, test split = the 2,000 images of LaMa's list (advimman/lama
    fetch_data/val_shuffled.flist, the images its script moves to visual_test_source_256/). The
    paper took Yu et al. 2018b's partition, which was not published; LaMa's is a public one.

    The list names images as LaMa's script renames them (0.jpg ... 29999.jpg), one below the zip's
    00001.jpg ... 30000.jpg; a folder as the zip unpacks it is read through that shift, since its
    10000.jpg ... 29999.jpg are files of both names but other faces. Ids are the list's names, so a
    copy in any of the three layouts gives the same images the same masks."""

    name = "celeba-hq"
    EXPECTED = ("ROOT/data256x256/ as data256x256.zip unpacks it (00001.jpg ... 30000.jpg; or 0.jpg ... 29999.jpg, as "
                "LaMa's fetch_data script renames them) with ROOT/val_shuffled.flist from advimman/lama fetch_data/ "
                "listing the 2,000 test images; or a ROOT prepared by LaMa's celebahq_dataset_prepare.sh "
                "(visual_test_source_256/ or visual_test_256/)")

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        if root is None:
            raise InputError(f"dataset '{self.name}' needs --data-root; expected layout: {self.EXPECTED}")
        root = Path(root)
        # LaMa's prepared root: its val_shuffled.flist there is a random validation split, not the test list
        candidates = [root] if root.name in LAMA_TEST_DIRS else [root / n for n in LAMA_TEST_DIRS]
        prepared = next((p for p in candidates if p.is_dir() and any(p.glob("*.jpg"))), None)
        d = root if root.name == "data256x256" else root / "data256x256"
        if prepared is not None and not (d.is_dir() and any(d.glob("*.jpg"))):
            files = sorted(f for f in prepared.glob("*.jpg") if not hidden(f, prepared))
            super().__init__(prepared, files, size, resize)
            self.naming = "lama"
            return
        d = _find_dir(root, ("data256x256",), self.name, self.EXPECTED)
        flist = next((p for p in (d / "val_shuffled.flist", d.parent / "val_shuffled.flist") if p.is_file()), None)
        if flist is None:
            raise InputError(f"{d}: no val_shuffled.flist beside it; expected layout: {self.EXPECTED}")
        names = [Path(line.strip()).name for line in flist.read_text().splitlines() if line.strip()]
        on_disk = [e.name for e in os.scandir(d) if e.name.endswith(".jpg")]
        listed, found = _celeba_naming(names, str(flist)), _celeba_naming(on_disk, str(d))
        shift = {("lama", "zip"): 1, ("zip", "lama"): -1}.get((listed, found), 0)

        def file(n: str) -> Path:
            if not shift or not n[:-4].isdigit():  # a name of neither scheme is looked for as written
                return d / n
            k = int(n[:-4]) + shift
            return d / (f"{k:05d}.jpg" if found == "zip" else f"{k}.jpg")

        files = {n: file(n) for n in sorted(names)}
        missing = [str(f) for f in files.values() if not f.is_file()]
        if missing:
            raise InputError(f"{flist}: {counted(len(missing), 'listed image')} {'is' if len(missing) == 1 else 'are'} "
                             f"missing, e.g. {missing[0]}")
        super().__init__(d, files, size, resize)
        self.naming = {1: "zip, read as the list's names + 1", -1: "lama, read as the list's names - 1"}.get(shift, listed or found or "as listed")

    def describe(self) -> dict:
        # which file an id was read from: the same id is another face in the zip's and LaMa's naming
        return {**super().describe(), "file_names": self.naming}


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
