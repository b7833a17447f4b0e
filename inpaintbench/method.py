"""The one interface every inpainting method implements.

A method receives the masked images (hole pixels already zeroed, so no method can peek at
the ground truth) and the `hole` mask (1 = missing), copies of its own that it may write into,
and returns full images. The harness composites `known + output * hole` itself and validates
the output, so methods stay small.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ClassVar

import numpy as np
import torch

from .errors import InputError, MethodError
from .workers import fill_in_worker, kill_pool, start_pool


class InpaintingMethod(ABC):
    name: ClassVar[str] = ""
    #: how the method's result depends on its inputs; recorded in every run manifest
    kind: ClassVar[str] = "learned"
    #: True for methods that must know which (image, mask) pair each batch item is, such as
    #: outputs computed elsewhere; `inpaint` then receives `keys` (see `pair_key`)
    wants_keys: ClassVar[bool] = False
    #: True for methods that load a weights file (`--weights`); to the others a file is refused,
    #: since the manifest and the report caption would name weights that produced nothing
    takes_weights: ClassVar[bool] = False
    #: processes the method may spread one batch over (`run --workers`); set by the runner, and no
    #: part of the method's identity, since no output depends on it (PerImageMethod.parallel)
    workers: int = 1
    #: True for methods that must know the evaluation side before any batch, such as stored
    #: outputs checked against it in `prepare`; `registry.create` then passes `size`
    wants_size: ClassVar[bool] = False

    def __init__(self, device: str = "cpu", weights: str | None = None, **options: Any):
        if weights and not self.takes_weights:
            raise InputError(f"{self.name} takes no weights; --weights is for learned methods")
        self.device = torch.device(device)
        self.weights = weights
        self.options = options

    @abstractmethod
    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """masked: (B,3,H,W) float in [0,1] with holes zeroed; hole: (B,1,H,W) float {0,1}.
        Returns (B,3,H,W) in [0,1] on any device."""

    def prepare(self, keys: list[str]) -> list[str]:
        """Called once with the key of every pair the run will score; returns the keys the
        method cannot produce. The runner stops unless the method allows a partial run."""
        return []

    def notes(self) -> list[str]:
        """What a run's log should say about the inputs `prepare` saw (e.g. files no pair uses).
        Separate from `prepare`, which the report's image grids also call, on a few pairs only."""
        return []

    def size_problem(self, h: int, w: int) -> str | None:
        """Why the method cannot take h x w images (a network's strides), or None. Asked before a
        run does any work, so `run --size` is refused in one line, not at the first batch."""
        return None

    def source_sha256(self, key: str) -> str | None:
        """For a method whose outputs are stored files (wants_keys): the sha256 of the file that
        answers `key` (None where there is none). The runner records it with each pair, so a
        report's grids check the few files they show instead of hashing the whole folder again."""
        return None

    def describe(self) -> dict:
        """Everything needed to know which network and weights produced a number."""
        return {"name": self.name, "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "kind": self.kind, "weights": self.weights, "options": self.options}


def pair_key(image_id: str, mask_file: str) -> str:
    """The name of one (image, mask) pair in files: `<image id without extension>__<mask file
    without extension, '/' -> '_'>`, e.g. `chelsea_full__20-30_m0412`. Used for --save-images,
    `export-inputs` and the `predictions` method alike."""
    mask = mask_file.rsplit(".", 1)[0].replace("/", "_")
    image = image_id.rsplit(".", 1)[0] if "." in image_id.rsplit("/", 1)[-1] else image_id
    return f"{image}__{mask}"


def pair_keys(pairs: list[tuple[str, str]]) -> list[str]:
    """pair_key of each (image id, mask file), refusing two pairs with one key: `a.png` and `a.jpg`
    in a folder share a key whenever they draw the same mask (image indices 200 apart in the frozen
    set), and one file would then stand for both pairs' input, prediction or saved output."""
    keys, seen = [], {}
    for image_id, mask_file in pairs:
        key = pair_key(image_id, mask_file)
        if key in seen and seen[key] != (image_id, mask_file):
            raise InputError(f"images {seen[key][0]} and {image_id} both name the pair {key} (with mask {mask_file}); "
                             f"rename one of them")
        seen[key] = (image_id, mask_file)
        keys.append(key)
    return keys


class PerImageMethod(InpaintingMethod):
    """For classical methods that work on one uint8 HxWx3 image and a bool HxW hole at a time."""

    kind = "classical"
    #: True where one image takes long enough (PatchMatch 0.4 to 0.8 s, biharmonic 0.1 s at 256x256)
    #: that a batch is worth spreading over `workers` processes; Telea's 15 ms is not worth the
    #: seconds a pool takes to start. Processes, not threads: PatchMatch's seed is one global C
    #: state, so two threads would draw from one stream and the output would depend on timing
    parallel: ClassVar[bool] = False
    _executor = None  # this method's pool, started by the first batch that spreads (`_pool`)
    _executor_size = 0

    @abstractmethod
    def inpaint_one(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """image uint8 (H,W,3), hole bool (H,W) -> uint8 (or another integer type, 0-255) or float
        [0,1] (H,W,3), RGB."""

    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        imgs = (masked.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        holes = hole[:, 0].cpu().numpy() > 0.5
        spread, pool, outs = self.parallel and self.workers > 1 and len(imgs) > 1, None, []
        try:
            pool = self._pool() if spread else None
            # each image is filled by the same code with the same seed wherever it runs, so the
            # outputs are the same for any number of workers (a test holds them bit for bit)
            if pool is None:
                filled = map(self.inpaint_one, imgs, holes)
            else:
                try:
                    filled = pool.map(fill_in_worker, imgs, holes)  # starts the workers
                except (OSError, EOFError) as e:
                    # their fork server ended before forking one: Python 3.14's ends where it cannot
                    # import the calling script (from `python -`), and its socket answered
                    # ConnectionResetError where older Pythons' workers ended abruptly
                    kill_pool(pool)  # and forget that server, so that a next batch starts another
                    raise BrokenProcessPool(f"{type(e).__name__}: {e}") from e
            for image, out in zip(imgs, filled):
                out = np.asarray(out)
                if out.shape != image.shape:
                    # a grey (H,W) or channels-first array had reached torch's permute as a bare RuntimeError
                    raise MethodError(f"{self.name}'s inpaint_one returned an array of shape {out.shape} for an image "
                                      f"of shape {image.shape}; it returns an RGB image of the image's shape (H, W, 3), "
                                      f"uint8 or floats in [0, 1]")
                # an int64 array (integer arithmetic on the uint8 image) is on the uint8 scale still
                integer = np.issubdtype(out.dtype, np.integer)
                outs.append(out.astype(np.float32) / 255 if integer else out.astype(np.float32))
        except KeyboardInterrupt:
            if spread:
                # the run ended only once its workers had filled every image already handed to
                # them (20 s with two 10-s fills queued per worker); nothing they hold is kept
                kill_pool(pool)
                self._executor = None
            raise
        except BrokenProcessPool:
            # every worker ended (and wrote what it had to say) before the error is told: a second
            # worker's traceback had landed after it in the log, now and then
            pool.shutdown(wait=True)
            self._executor = None
            raise InputError(f"{self.name}: a worker process (--workers {self.workers}) ended abruptly: out of memory, "
                             f"killed, or started from a script it could not run again (each worker runs the calling "
                             f"script anew: from Python, keep its work under `if __name__ == \"__main__\":`, and not "
                             f"in `python -`); --workers 1 fills every image in this process") from None
        return torch.from_numpy(np.stack(outs)).permute(0, 3, 1, 2)

    def _pool(self):
        if self._executor is not None and self._executor_size != self.workers:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
        if self._executor is None:
            self._executor, self._executor_size = start_pool(self, self.workers), self.workers
        return self._executor

    def worker_pids(self) -> list[int]:
        """The processes this method's batches are spread over now; none before a batch has spread.
        concurrent.futures names them only in a private attribute, read here alone (the bench's
        memory per worker, the tests that a pool started and ended)."""
        return list(self._executor._processes or ()) if self._executor is not None else []  # None once shut down

    def __getstate__(self):
        # what a worker needs to fill images: the method's settings, not its parent's pool
        return {k: v for k, v in self.__dict__.items() if k not in ("_executor", "_executor_size")}
