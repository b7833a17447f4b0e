"""Decoding images into 8-bit RGB at the evaluation size, with the bad-input policy in one place.

Converted (and said so in the run log): grayscale, palette, CMYK, RGBA/LA (alpha dropped),
16-bit (rounded to 8 bits; colour PNGs and TIFFs through OpenCV, as Pillow truncates them).
Stopping the run with one line naming the file: unreadable, truncated or non-image files, and,
under the `center-crop` policy, images smaller than the evaluation size. Under the default
`resize-crop` policy a smaller image is upsampled, with a warning, because the official Paris
StreetView test images are 227 px and users expect them to be evaluated at 256 as EdgeConnect
and the paper did.

EXIF orientation is not applied: pixels are taken as stored, as clean-fid's and torchvision's
decoders take them, so a file gives the same pixels here, in `export-inputs` and in those tools.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError, counted, stand_in

log = logging.getLogger("inpaintbench")
RESIZE_POLICIES = ("resize-crop", "center-crop", "exact")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sixteen_bit_colour(im: Image.Image, head: bytes) -> bool:
    """A 16-bit colour PNG or TIFF (RGB, grey+alpha, RGBA), which Pillow opens in an 8-bit mode
    keeping each value's high byte (v >> 8, not round(v / 257)): half a level low on average,
    2e-3 of l1 over a hole, more than many differences between methods. `head`: the file's
    first 26 bytes (a PNG's IHDR chunk: Pillow does not keep its bit depth)."""
    if im.format == "PNG":
        return len(head) >= 26 and head.startswith(PNG_SIGNATURE) and head[24] == 16 and head[25] in (2, 4, 6)
    if im.format == "TIFF":
        bits = im.tag_v2.get(258)  # BitsPerSample, one per channel
        return isinstance(bits, tuple) and len(bits) > 1 and max(bits) == 16
    return False


def file_head(path: Path, data: bytes | None = None, n: int = 26) -> bytes:
    if data is not None:
        return data[:n]
    with open(path, "rb") as f:
        return f.read(n)


def _decode_16bit_colour(raw: bytes) -> np.ndarray:
    import cv2

    arr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16:
        raise ValueError("a 16-bit colour image OpenCV cannot decode")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.shape[2] == 2:  # grey + alpha
        arr = np.repeat(arr[..., :1], 3, axis=2)
    else:
        arr = cv2.cvtColor(arr[..., :3], cv2.COLOR_BGR2RGB)
    return np.clip(np.rint(arr / 257.0), 0, 255).astype(np.uint8)


def unreadable(e: Exception, path: Path, data: bytes | None = None) -> str:
    """Why PIL could not read the file `path` (its bytes `data`, where read ahead), for a message that
    names the file already: what lies in its place (`stand_in`: a Git LFS pointer, a web page, an empty
    file), else PIL's reason, which names what it was given, for bytes read ahead (a mask set's, an
    archive member) `<_io.BytesIO object at 0x...>`."""
    if note := stand_in(path, data):
        return note
    if isinstance(e, UnidentifiedImageError):
        return f"{type(e).__name__}: not an image format PIL knows"
    return f"{type(e).__name__}: {e}"


def float_grey(arr: np.ndarray, path: Path) -> np.ndarray:
    """A 32-bit float grey image (a TIFF written from numpy) as uint8. PIL's conversion cuts its
    values to integers, so one on a 0-1 scale became all 0 and 1: scored as a black image without a
    word. Read on 0-1 where it stays within 1, else on 0-255; any other range is no scale to guess."""
    if not np.isfinite(arr).all():
        raise InputError(f"{path}: a floating-point image holding NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 255:
        raise InputError(f"{path}: a floating-point image with values from {lo:.4g} to {hi:.4g}, on neither a 0-1 "
                         f"nor a 0-255 scale; save it as 8-bit (`(x * 255).round().astype(np.uint8)` for 0-1)")
    scale = 255.0 if hi <= 1 else 1.0
    log.info("%s: a floating-point image read on a 0-%s scale", path, 1 if scale == 255 else 255)
    return np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)


def decode_rgb(path: Path, data: bytes | None = None) -> np.ndarray:
    """HxWx3 uint8 from any image PIL reads; raises InputError naming the file otherwise.
    `data`: the file's bytes, read from elsewhere (an archive member); `path` then only names it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data) if data is not None else path) as im:
                im.load()
                mode = im.mode
                if sixteen_bit_colour(im, file_head(path, data) if im.format == "PNG" else b""):
                    log.info("%s: converted 16-bit colour to 8-bit RGB (rounded)", path)
                    return _decode_16bit_colour(data if data is not None else Path(path).read_bytes())
                if mode in ("I;16", "I;16B", "I;16L", "I"):
                    arr = np.asarray(im, dtype=np.float64)
                    peak = 65535.0 if arr.max() > 255 or mode.startswith("I;16") else 255.0
                    arr = np.clip(np.rint(arr / peak * 255), 0, 255).astype(np.uint8)
                    return np.repeat(arr[..., None], 3, axis=2)
                if mode == "F":
                    return np.repeat(float_grey(np.asarray(im, dtype=np.float64), path)[..., None], 3, axis=2)
                if mode != "RGB":
                    log.info("%s: converted %s to RGB", path, mode)
                return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as e:
        raise InputError(f"{path}: not a readable image ({unreadable(e, path, data)})") from None


def fit_to_size(img: np.ndarray, size: int, policy: str, name: str = "") -> np.ndarray:
    h, w = img.shape[:2]
    if policy == "exact":
        if (h, w) != (size, size):
            raise InputError(f"{name}: image is {w}x{h}, policy 'exact' expects {size}x{size}")
        return img
    if policy == "center-crop":
        if min(h, w) < size:
            raise InputError(f"{name}: image is {w}x{h}, smaller than the evaluation size {size}; "
                             f"use --resize resize-crop to upsample it")
    elif policy == "resize-crop":
        s = size / min(h, w)
        if s != 1:
            nw, nh = max(size, round(w * s)), max(size, round(h * s))
            # PIL widens its bicubic kernel when shrinking, so downsampling is antialiased.
            img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BICUBIC))
            h, w = nh, nw
    else:
        raise InputError(f"unknown resize policy {policy!r}; expected one of {', '.join(RESIZE_POLICIES)}")
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(img[top : top + size, left : left + size])


def hidden(path: Path, root: Path) -> bool:
    """A name under `root` starting with '.': macOS's AppleDouble `._NAME.jpg` beside each photo
    copied from a Mac (not images: the run would stop on the first), Jupyter's
    `.ipynb_checkpoints/` (copies: the same photo scored twice). Skipped as `ls` and shell globs skip them."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def archive_note(path: Path, what: str) -> str | None:
    """Where `path` is a zip or tar archive (of any compression tar reads), that it is one and not the
    `what` wanted, with the command that unpacks it; None where it is none (or cannot be read)."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            kind, unpack = "zip", f"unzip {path} -d {path.parent / path.name.split('.')[0]}"
        elif tarfile.is_tarfile(path):
            kind, unpack = "tar", f"tar xf {path}"
        else:
            return None
    except OSError:
        return None
    return f"a {kind} archive, not a {what}: unpack it first (`{unpack}`) and give the folder it holds"


def not_a_folder(path: Path, what: str = "folder") -> str:
    """Why `path`, no folder, is not the one wanted (a dataset root, a mask set, masks to import, a
    folder of predictions or of training photos, a run's). An archive as downloaded (NVIDIA's masks
    come as a zip, Places2's val_256 as a tar) is named as one, with the command that unpacks it: "a
    file, not a folder" left the researcher to find out what the tool wanted instead."""
    if not Path(path).exists():
        return f"no such {what}"
    return archive_note(path, what) or f"a file, not a {what}"


def list_images(root: Path, expected: tuple[str, ...] = ()) -> list[Path]:
    """The images under `root`, in sorted path order, hidden names skipped. Linked folders are
    followed (Path.rglob before Python 3.13 skips them without a word, and datasets on shared
    machines are often a folder of links), each real folder once, so a link to a parent ends;
    a folder it cannot read, a link to an image that is not there or a name that is not UTF-8
    stops the listing, naming it. Other files (a .gif, a notes.txt) are not read, and a warning
    says how many and names the first: a GIF among the images had left the set without a word.
    `expected`: files directly in `root` that are known not to be images, left out of the warning."""
    root = Path(root)
    if not root.is_dir():  # os.walk of a file or no path lists nothing, or "cannot list this folder (Not a directory)"
        raise InputError(f"{root}: {not_a_folder(root)}")
    found, seen, others = [], set(), []

    def unreadable(e: OSError):  # os.walk would skip the folder and its images without a word
        raise InputError(f"{e.filename}: cannot list this folder ({e.strerror})")

    for top, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        # in name order, so which of two links to one folder is listed is the same on every machine
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            f = Path(top) / name
            if name.startswith("."):
                continue
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                if not (name in expected and top == os.fspath(root)):  # os.walk's first folder is root as given
                    others.append(f)
                continue
            if not f.exists():
                target = os.readlink(f)
                # git-annex keeps each file as a link into .git/annex/objects/, there once fetched
                annexed = "; its content is not fetched: `git annex get` in its repository fetches the files" \
                    if "/annex/objects/" in target else ""
                raise InputError(f"{f}: a link to {target}, which is not there{annexed}")
            try:  # a name from an old archive (Latin-1 bytes): ids are written to UTF-8 records and reports
                str(f).encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"{os.fsencode(f)!r}: the file name is not UTF-8, which records and reports are "
                                 f"written in; rename it (`convmv -f latin1 -t utf8 -r --notest DIR` renames a folder's)") from None
            found.append(f)
    if others:
        named = ", ".join(str(f.relative_to(root)) for f in sorted(others)[:3]) + (", ..." if len(others) > 3 else "")
        log.warning("%s: %s skipped (%s): not of the image types read here (%s)", root, counted(len(others), "file"),
                    named, " ".join(IMAGE_SUFFIXES))
    return sorted(found)


def pixel_sha256(pixels: np.ndarray) -> str:
    """An image's identity in a run's records (`gt_sha256`): the pixels it was scored on, not its file."""
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
