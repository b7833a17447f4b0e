"""Datasets yield (image_id, uint8 RGB image at the evaluation size) in a fixed order."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError, did_you_mean
from .base import Dataset
from .demo import DemoDataset
from .folder import FolderDataset
from .image_io import RESIZE_POLICIES, decode_rgb, fit_to_size
from .official import CelebAHQ, ParisStreetView, Places2

DATASETS: dict[str, type[Dataset]] = {
    "demo": DemoDataset,
    "folder": FolderDataset,
    "places2": Places2,
    "celeba-hq": CelebAHQ,
    "paris": ParisStreetView,
}


def get_dataset(name: str, root: Path | None = None, size: int = 256, resize: str = "resize-crop") -> Dataset:
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}{did_you_mean(name, DATASETS)}; available: {', '.join(DATASETS)}")
    if resize not in RESIZE_POLICIES:  # checked here: the demo never resizes, so it would not notice
        raise InputError(f"--resize must be one of {', '.join(RESIZE_POLICIES)}, got {resize!r}")
    return DATASETS[name](root, size=size, resize=resize)


__all__ = ["DATASETS", "Dataset", "get_dataset", "decode_rgb", "fit_to_size", "RESIZE_POLICIES"]
