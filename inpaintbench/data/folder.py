from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .base import FileDataset
from .image_io import IMAGE_SUFFIXES, list_images, not_a_folder


class FolderDataset(FileDataset):
    """Any directory of images, searched recursively, in sorted path order."""

    name = "folder"

    def __init__(self, root: Path | None, size: int = 256, resize: str = "resize-crop"):
        if root is None:
            raise InputError("dataset 'folder' needs --data-root pointing at a folder of images")
        if not Path(root).is_dir():
            raise InputError(f"--data-root {root}: {not_a_folder(root, 'folder of images')}")
        files = list_images(root)
        if not files:
            raise InputError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) found under it")
        super().__init__(root, files, size, resize)
