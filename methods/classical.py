"""Classical (non-learned) baselines, thin adapters over OpenCV and scikit-image."""
from __future__ import annotations

import cv2
import numpy as np
from skimage.restoration import inpaint_biharmonic

from inpaintbench.errors import InputError
from inpaintbench.method import PerImageMethod


class _OpenCV(PerImageMethod):
    flag: int = 0

    def __init__(self, device: str = "cpu", weights: str | None = None, radius: int = 3):
        # OpenCV's documented default neighbourhood; recorded so a different choice is visible.
        super().__init__(device, weights, radius=radius)
        self.radius = radius

    def inpaint_one(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        # cv2 treats non-zero mask pixels as holes; channel order does not matter per pixel.
        return cv2.inpaint(image, hole.astype(np.uint8) * 255, self.radius, self.flag)


class Telea(_OpenCV):
    """Telea 2004, fast marching (cv2.INPAINT_TELEA)."""

    name = "telea"
    flag = cv2.INPAINT_TELEA


class NavierStokes(_OpenCV):
    """Bertalmio et al. 2001, Navier-Stokes (cv2.INPAINT_NS)."""

    name = "navier-stokes"
    flag = cv2.INPAINT_NS


class Biharmonic(PerImageMethod):
    """Biharmonic equation fill (skimage.restoration.inpaint_biharmonic), per channel."""

    name = "biharmonic"
    parallel = True

    def __init__(self, device: str = "cpu", weights: str | None = None):
        # no options: named, so that registry.create refuses one given by mistake (the base
        # class's **options would record it in the manifest as if it had been used)
        super().__init__(device, weights)

    def inpaint_one(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return inpaint_biharmonic(image.astype(np.float64) / 255, hole, channel_axis=-1)


class PatchMatch(PerImageMethod):
    """Barnes et al. 2009 PatchMatch fill (PyPI `pypatchmatch`), seeded per image for determinism."""

    name = "patchmatch"
    parallel = True

    def __init__(self, device: str = "cpu", weights: str | None = None, patch_size: int = 3, seed: int = 0):
        import patchmatch  # here, so the other baselines work without the wheel

        if not hasattr(patchmatch, "set_random_seed"):  # PyPatchMatch 1 (Python 3.10's): unseeded, so unrepeatable
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version("pypatchmatch")
            except PackageNotFoundError:  # a `patchmatch` module of another origin
                found = f"a patchmatch module at {getattr(patchmatch, '__file__', None)}"
            raise InputError(f"patchmatch needs PyPatchMatch 2.2 or newer (seeded; Python 3.11+), found {found}: "
                             f"python -m pip install -U 'pypatchmatch>=2.2'")
        super().__init__(device, weights, patch_size=patch_size, seed=seed)

    def inpaint_one(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        import patchmatch  # not kept on self: a module cannot go to a worker process

        patchmatch.set_random_seed(self.options["seed"])
        return patchmatch.inpaint(image, hole.astype(np.uint8) * 255, patch_size=self.options["patch_size"])
