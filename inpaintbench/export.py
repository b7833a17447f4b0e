"""`inpaintbench export-inputs`: the exact inputs of a run, as files an outside method can read.

OUT/inputs/<key>.png   masked input, 8-bit RGB, hole pixels 0 (what every method here receives)
OUT/holes/<key>.png    8-bit gray, 255 = hole, 0 = known
OUT/pairs.csv          key, image_id, image_index, bucket, mask_file, mask_sha256, hole_ratio
OUT/README.txt         these conventions and how to score the outputs
OUT/export.json        what was exported (dataset, masks, protocol, buckets, --limit)
The pairs are the ones `inpaintbench run` scores with the same dataset, masks, buckets and
--limit (inpaintbench.runner.plan), so predictions made from them line up one to one.
"""
from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import numpy as np
from PIL import Image

from .data import get_dataset
from .errors import InputError, counted
from .masks import MaskSet, get_buckets
from .method import pair_key, pair_keys
from .protocol import PROTOCOL, protocol_for
from .runner import first_images, plan

#: the file that marks a folder as an export (the predictions adapter tells it from a folder of outputs by it)
EXPORT_FILE = "export.json"
PAIRS_FILE, README_FILE = "pairs.csv", "README.txt"
#: what an export writes beside its inputs/ and holes/: not images, and no surprise in an export's folder
EXPORT_OWN_FILES = (EXPORT_FILE, PAIRS_FILE, README_FILE)

README = """Inputs exported by inpaintbench {version} (protocol {protocol}, mask set {maskset}).

inputs/<key>.png  masked image, 8-bit RGB {size}x{size}, hole pixels set to 0
holes/<key>.png   8-bit gray, 255 = hole (missing), 0 = known
pairs.csv         one row per (image, mask) pair

Run your method on each pair and save its output as <key>.png (8-bit RGB, {size}x{size}) in
one folder (a key with a '/', an image in a subfolder of the dataset, in that subfolder of it,
as under inputs/); only the hole pixels are scored. Keep the colour order: cv2.imread gives BGR and
cv2.imwrite expects it, PIL and imageio use RGB both ways (a prediction whose known pixels are
not its input's, as in BGR order, is warned of). Then:

  inpaintbench run --method predictions --predictions YOUR_FOLDER {run_args}
"""


def export_inputs(out: Path, dataset: str = "demo", data_root: str | None = None, masks: str | None = None,
                  buckets: list[str] | None = None, limit: int | None = None, resize: str = "resize-crop",
                  progress=None, size: int = PROTOCOL.eval_size) -> int:
    from .masks import BUCKET_NAMES, DEFAULT_MASK_DIR

    protocol = protocol_for(size)
    ds = get_dataset(dataset, Path(data_root) if data_root else None, size, resize)
    ds.refuse_inside(out, "the inputs/ and holes/ it writes there")
    maskset = MaskSet(Path(masks) if masks else DEFAULT_MASK_DIR)
    chosen = get_buckets(buckets or BUCKET_NAMES)
    maskset.check_size(size, chosen)
    ids = first_images(ds.ids(), limit)
    pairs = plan(ids, chosen, maskset)
    out = Path(out)
    keys = set(pair_keys([(image_id, e.file) for _, image_id, _, e in pairs]))
    # keys of images in a dataset's subfolders are paths (sub/a__10-20_0188): their files are a level down
    stale = sorted({f.relative_to(out / sub).with_suffix("").as_posix() for sub in ("inputs", "holes")
                    for f in (out / sub).rglob("*.png")} - keys)
    if stale:  # left beside the new pairs, they would be run and scored as extra predictions
        raise InputError(f"{out} holds an earlier export with {counted(len(stale), 'pair')} this one does not write "
                         f"(e.g. {stale[0]}); use another --out or delete it")
    if progress:
        progress.start(total=len(pairs))
    rows, last = [], (None, None)
    for i, image_id, b, entry in pairs:
        if last[0] != image_id:
            last = (image_id, np.asarray(ds.load(image_id)))
        hole = maskset.load(entry, size).astype(bool)
        key = pair_key(image_id, entry.file)
        for sub, arr in (("inputs", np.where(hole[..., None], 0, last[1]).astype(np.uint8)),
                         ("holes", (hole * 255).astype(np.uint8))):
            path = out / sub / f"{key}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(path)
        rows.append({"key": key, "image_id": image_id, "image_index": i, "bucket": b.name, "mask_file": entry.file,
                     "mask_sha256": entry.sha256, "hole_ratio": entry.ratio})
        if progress:
            progress.advance(1)
    with open(out / PAIRS_FILE, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["key"])
        w.writeheader()
        w.writerows(rows)
    from importlib.metadata import version

    # the folder usually travels to where the outside method runs and its outputs come back: the
    # command is pasted in another folder (absolute paths) and a path may hold spaces (quoted)
    where = lambda p: shlex.quote(str(Path(p).resolve()))
    args = [f"--dataset {shlex.quote(dataset)}"] + ([f"--data-root {where(data_root)}"] if data_root else []) + \
        ([f"--masks {where(masks)}"] if masks else []) + [f"--buckets {b.name}" for b in chosen if buckets] + \
        ([f"--limit {limit}"] if limit else []) + ([f"--resize {resize}"] if resize != "resize-crop" else []) + \
        ([f"--size {size}"] if size != PROTOCOL.eval_size else [])
    (out / README_FILE).write_text(README.format(version=version("inpaintbench"), protocol=protocol.id, maskset=maskset.id,
                                                  size=size, run_args=" ".join(args)))
    (out / EXPORT_FILE).write_text(json.dumps({"dataset": ds.describe(), "masks": maskset.id, "protocol": protocol.id,
                                                 "pairs": len(rows), "limit": limit, "buckets": [b.name for b in chosen]},
                                                indent=2, default=str))
    return len(rows)
