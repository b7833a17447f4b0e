"""Writing mask sets: the frozen generated set, and imports of outside sets (e.g. NVIDIA's)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ..data.image_io import float_grey, list_images, not_a_folder, unreadable
from ..errors import InputError, counted, refuse_below
from ..paths import safe_name
from ..protocol import MIN_EVAL_SIZE
from .buckets import BUCKETS
from .generator import generate_hole
from .maskset import MANIFEST, encode_png, manifest_of, manifest_row, write_manifest


#: the largest side a set is made at: 4x the largest evaluation sides in use (2048); at --size
#: 100000 drawing the first mask took 90 s and 10 GB before numpy's MemoryError ended it in a traceback
MAX_MASK_SIZE = 8192


def refuse_size(size: int) -> None:
    """A side a run can take (below run's least --size, a set no run could use was written)."""
    refuse_below(MIN_EVAL_SIZE, ("--size", size))
    if size > MAX_MASK_SIZE:
        raise InputError(f"--size must be at most {MAX_MASK_SIZE}, got {size}")


def generate_set(out: Path, per_bucket: int = 200, size: int = 256, seed: int = 0, progress=None) -> Path:
    """The first half of each bucket keeps holes `size // 10` px from the border (NVIDIA: 50 px at 512)."""
    out = Path(out)
    refuse_filled(out)
    refuse_size(size)
    refuse_below(1, ("--per-bucket", per_bucket))
    refuse_below(0, ("--seed", seed))  # a negative seed was numpy's ValueError, reported as the --size's
    rows, encoded = [], []  # all made before the first is written: a refusal leaves no half set to clear away
    margin = round(size * 50 / 512)
    for b in BUCKETS:
        for i in range(per_bucket):
            border_margin = margin if i < per_bucket // 2 else 0
            try:
                hole = generate_hole(b, i, seed=seed, size=size, border_margin=border_margin)
            except (RuntimeError, ValueError) as e:  # strokes that cannot hit the bucket
                raise InputError(f"--size {size}: {e}") from None
            data = encode_png(hole)
            name = f"{b.name}/{i:04d}.png"
            encoded.append((name, data))
            rows.append(manifest_row(name, data, hole, f"generated seed={seed} bucket={b.index} index={i} margin={border_margin}"))
            if progress:
                progress()
    return write_set(out, encoded, rows)


def write_set(out: Path, encoded: list[tuple[str, bytes]], rows: list[dict]) -> Path:
    """The masks and manifest are written into a hidden folder beside `out`, then renamed to it: a
    set stopped while writing (Ctrl-C, a full disk) had left its first masks in `out`, which the same
    command then refused as not empty, and a folder of masks without a manifest."""
    target = out.resolve()  # a link to an empty folder: the set goes where it points
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear_abandoned(target)
    partial = target.parent / f"{_partial_prefix(target)}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        partial.mkdir()  # not tempfile.mkdtemp: its mode 0700 would keep the set from others sharing the machine
    except PermissionError:  # an empty folder made for the user where they may not write: in place, as before
        _write(target, encoded, rows)
        return out / MANIFEST
    try:
        _write(partial, encoded, rows)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        if target.exists():
            target.rmdir()  # empty, as refuse_filled found it
        partial.rename(target)
    except OSError:  # an empty mount point cannot be removed: the set is written into it
        shutil.rmtree(partial, ignore_errors=True)
        refuse_filled(out)
        _write(target, encoded, rows)
    return out / MANIFEST


_HOST = safe_name(socket.gethostname())


def _partial_prefix(target: Path) -> str:
    """The hidden folder a set is written into beside `target`, up to the writer's PID."""
    return f".{target.name}.partial-{_HOST}-"


def _clear_abandoned(target: Path) -> None:
    """Hidden folders a killed `masks generate` (SIGKILL, a lost machine) left beside `target`: those
    of this machine whose process is gone. They had stayed, each a whole set's size; one of another
    machine sharing the disk, or of a process still writing, is not touched."""
    prefix = _partial_prefix(target)
    for old in target.parent.glob(glob.escape(prefix) + "*"):
        pid = old.name[len(prefix):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def _write(folder: Path, encoded: list[tuple[str, bytes]], rows: list[dict]) -> None:
    """The manifest last: a folder with one holds the whole set."""
    for name, data in encoded:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    write_manifest(folder, rows)


def refuse_filled(out: Path) -> None:
    """A new set goes into a new or empty folder: written over a set (the frozen one included) it
    would replace some of its masks, leave the others beside a manifest that no longer lists them."""
    if out.exists() and any(out.iterdir()):
        raise InputError(f"--out {out} is not empty: give a new or empty folder")


MAX_MID_GREY = 0.25  # share of pixels in 32..223 that a mask may have; see import_set


def mask_sources(src: Path) -> list[Path]:
    """The files `import_set` imports from SRC, in its order (the command's progress total)."""
    return list_images(src)  # as dataset folders: hidden names (a Mac's ._NAME.png) skipped


def _shape_in_alpha_only(im: Image.Image) -> bool:
    """A mask drawn as transparency over one colour (an editor's layer saved as is): its grey
    levels, which the import binarises, are the same everywhere, and each such mask came in as
    all hole or no hole, said only as "outside every bucket"."""
    if "A" not in im.getbands() and "transparency" not in im.info:
        return False
    rgba = im.convert("RGBA")
    lo, hi = rgba.getchannel("A").getextrema()
    grey = rgba.convert("L").getextrema()
    return lo != hi and grey[0] == grey[1]


def import_set(src: Path, out: Path, polarity: str, size: int = 256, progress=None, log=print) -> Path:
    """Resize with nearest neighbour, binarise at mid-grey, and measure after both, as REFERENCE.md s3 asks.
    `log` gets what a researcher should know about the set made: sources stretched to a square,
    masks identical to another after the import (each still counts in its bucket), how many each
    bucket got and how many fall outside every bucket, and a likely polarity mistake."""
    if polarity not in ("hole-white", "hole-black"):
        raise InputError(f"--polarity must be hole-white or hole-black, got {polarity!r}")
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise InputError(f"{src}: {not_a_folder(src, 'folder of masks')}")
    # the imported PNGs keep their source names: written into the source folder they would replace
    # the originals, inside it a later import would read them back as sources, and into a folder
    # that holds other files they would mix with a set the new manifest does not describe
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise InputError(f"--out {out} is inside the source folder {src}: give a folder outside it")
    refuse_filled(out)
    refuse_size(size)
    files = mask_sources(src)
    if not files:
        raise InputError(f"{src}: no mask images (png/jpg/bmp/tif/webp) found")
    # every mask is written as NAME.png: a.jpg beside a.png would write one file over the other and
    # leave a manifest with two rows for it, one of which no longer matches (masks verify fails)
    sources: dict[str, list[Path]] = {}
    for p in files:
        sources.setdefault(p.relative_to(src).with_suffix(".png").as_posix(), []).append(p)
    clash = [(name, ps) for name, ps in sources.items() if len(ps) > 1]
    if clash:
        name, ps = clash[0]
        raise InputError(f"{src}: {' and '.join(p.relative_to(src).as_posix() for p in ps)} would both be imported as "
                         f"{name}" + (f" ({len(clash)} such names)" if len(clash) > 1 else "") + "; rename or move one of each")
    stretched: list[str] = []
    rows, encoded = [], []  # every mask read and checked before the first is written: a refusal leaves nothing behind
    for p in files:
        try:
            with Image.open(p) as im:
                if im.width != im.height:
                    stretched.append(f"{p.relative_to(src).as_posix()} ({im.width}x{im.height})")
                if _shape_in_alpha_only(im):
                    raise InputError(f"{p}: its shape is in its alpha channel only (every pixel has one colour), "
                                     f"and the import reads colour: save the masks as greyscale PNGs, hole white or "
                                     f"black, and import those")
                # a float mask (numpy's 0-1 saved as a TIFF) was cut to 0 and 1 by PIL's conversion: every
                # mask came in as no hole, said only as "outside every bucket"
                levels = Image.fromarray(float_grey(np.asarray(im, np.float64), p)) if im.mode == "F" else im.convert("L")
                g = levels.resize((size, size), Image.NEAREST)
        except OSError as e:
            raise InputError(f"{p}: not a readable image ({unreadable(e, p)})") from None
        arr = np.asarray(g)
        # binarising at mid-grey is for masks that JPEG or antialiasing softened at their edges (at most
        # 4.5% of pixels mid-grey here), not for photos that strayed into the folder (74% and more)
        grey = float(((arr > 31) & (arr < 224)).mean())
        if grey > MAX_MID_GREY:
            raise InputError(f"{p}: {grey:.0%} of its pixels are mid-grey (32-223), so it is not a two-level mask; "
                             f"move it out of {src}")
        hole = arr > 127 if polarity == "hole-white" else arr <= 127
        name = p.relative_to(src).with_suffix(".png").as_posix()
        data = encode_png(hole)
        encoded.append((name, data))
        rows.append(manifest_row(name, data, hole, f"imported from {p.name} polarity={polarity}"))
        if progress:
            progress()
    path = write_set(out, encoded, rows)
    # the set's buckets at a glance: an import whose masks fell outside every bucket, or all into a
    # few, had said only "wrote DIR", and `run` found out bucket by bucket
    per_bucket = {b.name: sum(r["bucket"] == b.name for r in rows) for b in BUCKETS}
    outside = len(rows) - sum(per_bucket.values())
    log(f"{counted(len(rows), 'mask')} by bucket: " + ", ".join(f"{b.label} {per_bucket[b.name]}" for b in BUCKETS)
        + (f"; outside every bucket (hole at most {BUCKETS[0].lo_pct}% or over {BUCKETS[-1].hi_pct}% of the image, "
           f"never paired): {outside}" if outside else ""))
    # outside sets (NVIDIA's) have holes of 1-60%: most over 60% is what the other polarity reads
    over = sum(int(r["hole_pixels"]) * 100 > BUCKETS[-1].hi_pct * size * size for r in rows)
    if over * 2 > len(rows):
        other = "hole-black" if polarity == "hole-white" else "hole-white"
        log(f"note: the hole covers over {BUCKETS[-1].hi_pct}% of the image in {over} of {len(rows)} masks, as masks of "
            f"the other colour would read: if the holes in {src} are {other.split('-')[1]}, import again with --polarity {other}")
    if stretched:
        log(f"note: not square, so stretched to {size}x{size} (their strokes change shape): "
            f"{', '.join(stretched[:5])}{f' ... ({len(stretched)} in all)' if len(stretched) > 5 else ''}")
    by_sha: dict[str, list[str]] = {}
    for r in rows:
        by_sha.setdefault(r["sha256"], []).append(r["file"])
    same = [names for names in by_sha.values() if len(names) > 1]
    if same:
        log(f"note: identical after the import (each still counts in its bucket): "
            f"{'; '.join(' = '.join(n) for n in same[:5])}{f' ... ({len(same)} groups in all)' if len(same) > 5 else ''}")
    return path


def stats(root: Path) -> pd.DataFrame:
    """Per-bucket summary to hold against the NVIDIA figures in REFERENCE.md section 3."""
    df = pd.read_csv(manifest_of(root), keep_default_na=False, dtype={"bucket": str})
    rows = []
    for b in BUCKETS:
        d = df[df.bucket == b.name]
        if len(d) == 0:
            continue
        rows.append({
            "bucket": b.label,
            "masks": len(d),
            "mean_ratio": round(d.ratio.astype(float).mean(), 4),
            "nvidia_mean_ratio": NVIDIA_MEAN_RATIO[b.index],
            "median_components": float(d.components.astype(int).median()),
            "median_stroke_width": float(d.stroke_width.astype(float).median()),
            "share_touching_border": round(d.touches_border.astype(int).mean(), 3),
        })
    outside = int((df.bucket == "").sum())
    out = pd.DataFrame(rows)
    out.attrs["outside_buckets"] = outside
    return out


# Mean of the border-constrained and free halves of each NVIDIA bucket (REFERENCE.md section 3).
NVIDIA_MEAN_RATIO = (0.0585, 0.146, 0.246, 0.3415, 0.439, 0.5425)
