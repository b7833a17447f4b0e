"""`predictions`: score a folder of outputs made by any tool the suite does not ship.

    inpaintbench export-inputs --dataset demo --out exported/      # masked inputs + holes
    (run your method: exported/inputs/<key>.png + exported/holes/<key>.png -> preds/<key>.png)
    inpaintbench run --method predictions --predictions preds/ --dataset demo

Every prediction is `<key>.png` (or .jpg/.jpeg/.webp/.bmp/.tif), key = inpaintbench.method.pair_key:
`<image id without extension>__<mask file without extension, '/' -> '_'>`, an 8-bit RGB image
of the evaluation size (256x256, or `run --size`'s); RGBA is read as RGB where every pixel is opaque (matplotlib's
`imsave` writes RGBA so), and refused where any is not: what a transparent pixel shows depends on
what it is put over. Only hole pixels are used: the harness composites them into
the ground truth like every other method's output. Before anything is scored the whole
folder is checked against the run's pairs: missing, extra, mis-sized, wrong-mode and 16-bit files
are listed; JPEG files are scored with a note that they are lossy; a prediction whose known pixels
are not its input's (another image, a flip, BGR order), or whose hole pixels are all 0 (a masked
input), is warned of as it is scored; the export's inputs/ themselves are refused. Missing files stop the run
unless --allow-partial, which scores the rest and marks the run PARTIAL in its manifest
(skipped_pairs) and in reports.
"""
from __future__ import annotations

import hashlib
import io
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inpaintbench.data.image_io import (
    file_head,
    list_images,
    not_a_folder,
    sixteen_bit_colour,
)
from inpaintbench.errors import InputError, counted, stand_in
from inpaintbench.export import EXPORT_FILE, EXPORT_OWN_FILES
from inpaintbench.method import InpaintingMethod
from inpaintbench.metrics.pixel import psnr_from_mse
from inpaintbench.networks import sha256_of

SHOW = 5  # names listed per problem; the count is always given
KNOWN_PSNR_FLOOR = 20.0  # dB over the known pixels, under which a prediction is not of its input (see _check_known)
log = logging.getLogger("inpaintbench")


def _subset_hint(keys: list[str], files) -> str:
    """Where the files are every pair of the first N images in some buckets (an export made with
    --limit and --buckets), the options that score those; else nothing."""
    image = lambda k: k.rsplit("__", 1)[0]
    bucket = lambda k: k.rsplit("__", 1)[1].split("_", 1)[0]
    images, buckets = list(dict.fromkeys(map(image, keys))), list(dict.fromkeys(map(bucket, keys)))
    have_images = {image(k) for k in keys if k in files}
    have_buckets = [b for b in buckets if any(bucket(k) == b for k in keys if k in files)]
    first = images[:len(have_images)]
    if set(first) != have_images or any(k not in files for k in keys if image(k) in have_images and bucket(k) in have_buckets):
        return ""
    options = ([f"--limit {len(first)}"] if len(first) < len(images) else []) + \
              [f"--buckets {b}" for b in have_buckets if len(have_buckets) < len(buckets)]
    return (f" (the folder holds every pair of the first {counted(len(first), 'image')} in "
            f"{'bucket' if len(have_buckets) == 1 else 'buckets'} {', '.join(have_buckets)}, as an export made with "
            f"those options: give {' '.join(options)} to score them)")


def _listing(names: list[str]) -> str:
    return ", ".join(names[:SHOW]) + (f", ... ({len(names)} in all)" if len(names) > SHOW else "")


class Predictions(InpaintingMethod):
    """Outputs computed elsewhere, read from a folder."""

    name = "predictions"
    kind = "precomputed"
    wants_keys = True
    wants_size = True

    def __init__(self, device: str = "cpu", weights: str | None = None, predictions: str | None = None,
                 allow_partial: bool = False, size: int = 256):
        super().__init__(device, weights)
        if not predictions:
            raise InputError("method predictions needs --predictions DIR (a folder of <key>.png outputs; "
                             "`inpaintbench export-inputs` writes the inputs and the list of keys)")
        self.root = Path(predictions)
        if not self.root.is_dir():
            raise InputError(f"--predictions {self.root}: {not_a_folder(self.root, 'folder of outputs')}")
        self.allow_partial, self.size = allow_partial, size
        self.files: dict[str, Path] = {}
        # as dataset folders: hidden names skipped, linked folders followed; an export's own files are
        # not said to be skipped before the refusal that names the folder as an export
        own = EXPORT_OWN_FILES if (self.root / EXPORT_FILE).is_file() else ()
        for f in list_images(self.root, expected=own):
            key = f.relative_to(self.root).with_suffix("").as_posix()
            if key in self.files:
                raise InputError(f"--predictions {self.root}: two files for pair {key}: {self.files[key].name} and {f.name}")
            self.files[key] = f
        self._folder_sha256: str | None = None
        self._scored: dict[str, str] = {}
        self._unlike: set[str] = set()  # keys warned of by _check_known
        self._black: set[str] = set()  # keys whose hole pixels are all 0 (_check_known)

    @property
    def folder_sha256(self) -> str:
        """The folder's identity (every key and its file's sha256), for the run's manifest and a
        resume; made when first asked, as the report's grids check only their files (source_sha256)."""
        if self._folder_sha256 is None:
            digest = hashlib.sha256()
            for key, f in self.files.items():
                digest.update(f"{key}\0{sha256_of(f)}\n".encode())
            self._folder_sha256 = digest.hexdigest()
        return self._folder_sha256

    def source_sha256(self, key: str) -> str | None:
        if key in self._scored:  # the bytes inpaint read, not the file as it may be by now
            return self._scored[key]
        f = self.files.get(key)
        return sha256_of(f) if f else None

    def _refuse_the_exported_inputs(self, keys: list[str]) -> None:
        """The export's own inputs/ given as --predictions (the folder beside the outputs' in every
        example) were scored as a method whose every fill is black. Told by the export's holes: the
        first files' hole pixels all 0. A method that wrote its outputs over them is scored."""
        export = self.root.parent
        if self.root.name != "inputs" or not (export / EXPORT_FILE).is_file():
            return
        looked = 0
        for k in keys:
            hole_file = export / "holes" / f"{k}.png"
            if k not in self.files or not hole_file.is_file():
                continue
            try:
                with Image.open(self.files[k]) as im, Image.open(hole_file) as h:
                    hole = np.asarray(h.convert("L")) > 127
                    if not hole.any() or np.asarray(im.convert("RGB"))[hole].any():
                        return
            except (OSError, ValueError):  # prepare lists the unreadable files
                return
            if (looked := looked + 1) == 3:
                break
        if looked:
            raise InputError(f"--predictions {self.root}: these are the masked inputs `inpaintbench export-inputs` wrote "
                             f"(holes zeroed), not a method's outputs: give the folder your method wrote its outputs into")

    def prepare(self, keys: list[str]) -> list[str]:
        self._refuse_the_exported_inputs(keys)
        wanted = set(keys)
        missing = [k for k in keys if k not in self.files]
        extra = sorted(set(self.files) - wanted)
        bad, self.lossy = [], []
        for k in keys:
            if k not in self.files:
                continue
            try:
                with Image.open(self.files[k]) as im:
                    mode, size = im.mode, im.size
                    if im.format == "JPEG":
                        self.lossy.append(self.files[k].name)
                    deep = sixteen_bit_colour(im, file_head(self.files[k]))
                    see_through = int((np.asarray(im.getchannel("A")) < 255).sum()) if mode == "RGBA" else 0
            except Exception as e:
                bad.append(f"{self.files[k].name}: unreadable ({stand_in(self.files[k]) or type(e).__name__})")
                continue
            if size != (self.size, self.size):
                bad.append(f"{self.files[k].name}: {size[0]}x{size[1]}, expected {self.size}x{self.size}")
            elif see_through:
                bad.append(f"{self.files[k].name}: RGBA with {counted(see_through, 'pixel')} not opaque, expected 8-bit RGB")
            elif mode not in ("RGB", "RGBA"):
                bad.append(f"{self.files[k].name}: mode {mode}, expected 8-bit RGB")
            elif deep:  # Pillow opens it as mode RGB, each value's high byte
                bad.append(f"{self.files[k].name}: 16-bit colour, expected 8-bit RGB")
        problems = []
        if bad:
            problems.append(f"{len(bad)} unusable: {_listing(bad)}")
        if missing and not self.allow_partial:
            problems.append(f"{len(missing)} of {len(keys)} pairs have no prediction: {_listing(missing)}")
        if problems:
            hint = (" (names must be <image id>__<bucket>_<mask stem>.png, as `inpaintbench export-inputs` lists in pairs.csv)"
                    if missing and len(missing) == len(keys) else "")
            if missing and len(missing) < len(keys):
                hint += _subset_hint(keys, self.files)
            # a folder above the predictions given, as a run's folder for its --save-images' images/
            below = Counter(e.split("/", 1)[0] for e in extra if "/" in e and e.split("/", 1)[1] in wanted)
            if (self.root / EXPORT_FILE).is_file():  # an export's inputs/ and holes/ have the pairs' names too
                exported = [below.pop(sub) for sub in ("inputs", "holes") if sub in below]
                if missing and exported and not below:
                    hint = (" (it is the folder `inpaintbench export-inputs` wrote: the masked inputs/ and holes/ a method "
                            "reads, not a method's outputs; give the folder your method wrote its outputs into)")
            if missing and below:
                sub, n = below.most_common(1)[0]
                hint = (f" (the predictions of {counted(n, 'pair')} are in its subfolder {sub}/: "
                        f"give --predictions {self.root / sub})")
            # an outside tool that writes every output into one folder drops the dataset's subfolders
            if any("/" in k and k.rsplit("/", 1)[1] in extra for k in missing):
                hint += (" (the pairs of images in a subfolder of the dataset are files in that subfolder of --predictions, "
                         "as under the export's inputs/: sub/NAME.png, not NAME.png)")
            raise InputError(f"--predictions {self.root}: " + "; ".join(problems) + hint
                             + (f"; also {counted(len(extra), 'extra file')} matching no pair: {_listing(extra)}" if extra else ""))
        self.extra = extra
        return missing

    def notes(self) -> list[str]:
        notes = []
        if self.extra:
            notes.append(f"{counted(len(self.extra), 'file')} in {self.root} matching no pair of this run, ignored: {_listing(self.extra)}")
        if self.lossy:  # every method run here is scored from its exact output, rounded to 8 bits
            notes.append(f"{counted(len(self.lossy), 'prediction')} saved as JPEG ({_listing(self.lossy)}): lossy, so their scores "
                         f"include the compression's error besides the fill's; save PNG to score the fill alone")
        return notes

    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor, keys: list[str] | None = None) -> torch.Tensor:
        if keys is None or len(keys) != masked.shape[0]:
            raise InputError("the predictions method needs the pair keys of every batch item")
        outs = []
        for k in keys:
            data = self.files[k].read_bytes()
            self._scored[k] = hashlib.sha256(data).hexdigest()
            with Image.open(io.BytesIO(data)) as im:
                outs.append(np.asarray(im.convert("RGB"), dtype=np.float32) / 255)
        out = torch.from_numpy(np.stack(outs)).permute(0, 3, 1, 2)
        self._check_known(out, masked, hole, keys)
        return out

    def _check_known(self, out: torch.Tensor, masked: torch.Tensor, hole: torch.Tensor, keys: list[str]) -> None:
        """Warn where a prediction's known pixels are not the input's. Only its hole pixels are
        scored, composited into the ground truth, so a prediction of another image, crop or flip,
        or one saved in OpenCV's BGR order, was scored as a fill without a word. A method's raw
        output (not composited) keeps the known pixels within a few grey levels (over 25 dB); the
        demo's images against another image, their flip or their BGR order: 5-25 dB, median 8-13."""
        known = 1 - hole
        per = lambda x: psnr_from_mse((((x - masked) * known) ** 2).sum((1, 2, 3)) / (known.sum((1, 2, 3)) * 3))
        psnr, swapped = per(out), per(out.flip(1))
        # the masked input itself (as export-inputs writes it) scored as a fill of black
        black = ((out * hole).amax((1, 2, 3)) == 0) & (hole.amax((1, 2, 3)) > 0)
        for k in (k for k, b in zip(keys, black.tolist()) if b and k not in self._black):
            self._black.add(k)
            if len(self._black) <= SHOW:
                log.warning("%s: the prediction's hole pixels are all 0, as in the masked input `inpaintbench "
                            "export-inputs` writes: the input, not a method's output? (scored as a black fill)", self.files[k])
            elif len(self._black) == SHOW + 1:
                log.warning("%s: more predictions whose hole pixels are all 0 (not named again)", self.root)
        for k, p, s in zip(keys, psnr.tolist(), swapped.tolist()):
            if p >= KNOWN_PSNR_FLOOR or k in self._unlike:
                continue
            self._unlike.add(k)
            if len(self._unlike) <= SHOW:
                why = (f"in BGR order (OpenCV's imwrite of an RGB array?): with red and blue swapped they match at {s:.1f} dB"
                       if s >= KNOWN_PSNR_FLOOR else "another image, crop, flip or colour order?")
                log.warning("%s: the prediction's known pixels differ from the input's (%.1f dB PSNR; %s); only its hole "
                            "pixels are scored, composited into the ground truth", self.files[k], p, why)
            elif len(self._unlike) == SHOW + 1:
                log.warning("%s: more predictions whose known pixels differ from the input's (not named again)", self.root)

    def describe(self) -> dict:
        return {**super().describe(), "predictions": str(self.root.resolve()), "files": len(self.files),
                "folder_sha256": self.folder_sha256, "allow_partial": self.allow_partial}
