"""Image grids like the paper's Figures 3 and 5: rows of (masked input, each method's output,
ground truth) with the hole outlined.

Outputs come from a run's `images/` folder when it was made with --save-images; otherwise
they are recomputed for just the chosen pairs through the registry with the run's own
configuration, and refused if the method's weights no longer hash to what the run recorded.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from PIL import Image
from scipy.ndimage import binary_dilation
from skimage.segmentation import find_boundaries

from . import registry
from .data import get_dataset
from .data.image_io import pixel_sha256
from .errors import InputError
from .masks import BUCKETS, DEFAULT_MASK_DIR, MaskSet
from .method import pair_key
from .paths import from_repo_path
from .plots import LITERAL_TEXT
from .runner import Memo, complete, run_name

OUTLINE = np.array([255, 40, 40], dtype=np.uint8)
#: a grid's pixels at most: ten methods at 1024x1024 over six buckets would be 86 M, 350 MB to draw
MAX_PIXELS = 64e6


def choose_pairs(df: pd.DataFrame, per_bucket: int = 1, how: str = "random", seed: int = 0,
                 metric: str = "psnr", method: str | None = None) -> pd.DataFrame:
    """Pairs every method scored: `random` (seeded), or `worst` by `metric` for `method`."""
    methods = df.method.unique()
    common = df.groupby(["image_id", "mask_file"]).method.nunique()
    common = common[common == len(methods)].index
    base = df.set_index(["image_id", "mask_file"]).loc[common].reset_index()
    rows = []
    for b in [x.name for x in BUCKETS]:
        g = base[base.bucket == b].drop_duplicates(["image_id", "mask_file"])
        if g.empty:
            continue
        if how == "random":
            rows.append(g.sample(n=min(per_bucket, len(g)), random_state=seed + len(rows)))
        elif how == "worst":
            from .metrics import METRIC_INFO

            s = base[(base.bucket == b) & (base.method == (method or methods[0]))]
            s = s.sort_values(metric, ascending=METRIC_INFO[metric][0])
            rows.append(s.head(per_bucket))
        else:
            raise InputError(f"unknown pair choice {how!r}; expected random or worst")
    return pd.concat(rows)[["image_id", "image_index", "bucket", "mask_file"]].reset_index(drop=True) if rows else pd.DataFrame()


def _maskset(manifest: dict) -> MaskSet:
    root = from_repo_path(manifest["config"]["masks"])
    for candidate in (root, DEFAULT_MASK_DIR):
        if (candidate / "manifest.csv").is_file():
            ms = MaskSet(candidate)
            if ms.id == manifest["masks"]["id"]:
                return ms
    raise InputError(f"mask set {manifest['masks']['id']} of the run is not at {root} (nor is it the default set)")


def run_outputs(run_dir: Path, manifest: dict, pairs: pd.DataFrame, gt: torch.Tensor, hole: torch.Tensor,
                records: pd.DataFrame, memo: Memo | None = None, workers: int = 1) -> dict[str, np.ndarray]:
    """Composited uint8 outputs of one run for the chosen pairs (gt, hole: their images and
    holes as the runner builds them), keyed by pair_key. `records`: the report's frame of every
    run's records (load_runs), where a run of stored outputs keeps each file's hash. `memo`: the
    method's outputs shared with runs of the same method and weights (`fill_identity`). `workers`:
    processes a method that fills one image at a time spreads the pairs over (`run --workers`)."""
    keys = [pair_key(r.image_id, r.mask_file) for r in pairs.itertuples()]
    saved = [Path(run_dir) / "images" / f"{k}.png" for k in keys]
    if all(p.is_file() for p in saved):
        return {k: np.asarray(Image.open(p).convert("RGB")) for k, p in zip(keys, saved)}
    cfg = manifest["config"]
    if cfg["method"] not in registry.available():
        # a method registered by a script (registry.register) is known to that script alone
        raise InputError(f"{run_dir}: its method {cfg['method']!r} is not registered here, and the run kept no images to "
                         f"show: write the report from the script that registers it (write_report), or run it again "
                         f"with --save-images")
    method = registry.create(cfg["method"], eval_size=manifest["protocol"]["eval_size"], device="cpu", weights=cfg.get("weights"),
                             **(cfg.get("method_options") or {}))
    # the images shown must be the ones scored: the same weights, or the same outside outputs. A
    # run that recorded each output file's hash is checked on the files shown alone; the folder's
    # hash would read every file again (33 GB of PNGs at Places2's scale) to show a dozen
    recorded = _recorded_sources(records, run_name(manifest), pairs) if method.wants_keys else {}
    if recorded:
        for k in keys:
            if (have := method.source_sha256(k)) != recorded[k]:
                raise InputError(f"{run_dir}: the run's {cfg['method']} file for pair {k} had sha256 {recorded[k][:12]}, "
                                 f"here {have[:12] if have else 'none'}; rerun it with --save-images or restore its files")
    checks = [("weights_sha256", "weights", "those weights")] + ([] if recorded else [("folder_sha256", "folder", "its files")])
    now = method.describe() if method.takes_weights or not recorded else {}  # describe() hashes a folder
    for key, what, restore in checks:
        want, have = manifest["method"].get(key), now.get(key)
        if want != have:
            raise InputError(f"{run_dir}: the run's {cfg['method']} {what} had sha256 {str(want)[:12]}, here "
                             f"{str(have)[:12]}; rerun it with --save-images or restore {restore}")
    method.workers = workers
    if method.wants_keys:
        method.prepare(keys)
    comp = complete(method, gt, hole, keys, cfg["method"], cfg.get("blend", "none"), cfg.get("self_ensemble", "none"), memo)
    return {k: (c.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for k, c in zip(keys, comp)}


def fill_identity(manifest: dict) -> str:
    """What a run's raw fills depend on: the method, its options and its weights or folder by
    content. Runs alike in it differ only in what is done with the fills (blend, self-ensemble)
    or in name (--label), so they can share them."""
    cfg, described = manifest["config"], manifest["method"]
    return json.dumps({"method": cfg["method"], "options": cfg.get("method_options") or {}, "weights": cfg.get("weights"),
                       **{k: described.get(k) for k in ("weights_sha256", "folder_sha256")}}, sort_keys=True)


def _recorded_sources(records: pd.DataFrame, name: str, pairs: pd.DataFrame) -> dict[str, str]:
    """{pair key: the output file's sha256 as run `name` recorded it} for the pairs, or {} when
    any of them has none (a run made before the hashes were recorded)."""
    if "output_sha256" not in records.columns:
        return {}
    mine = records[records.method == name].set_index(["image_id", "mask_file"]).output_sha256
    got = {pair_key(r.image_id, r.mask_file): mine.get((r.image_id, r.mask_file)) for r in pairs.itertuples()}
    return got if all(isinstance(v, str) for v in got.values()) else {}


def outline(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The hole's border drawn just inside the hole (1 px at 256 px); as wide in proportion at a larger
    `run --size`, so that it reads the same once the figure is shrunk into a page."""
    img = img.copy()
    edge = find_boundaries(hole, mode="thick") & hole
    if (grow := hole.shape[0] // 256) > 1:
        edge = binary_dilation(edge, iterations=grow - 1) & hole
    img[edge] = OUTLINE
    return img


def image_grid(runs: list[tuple[Path, dict]], pairs: pd.DataFrame, out_stem: Path, records: pd.DataFrame,
               title: str = "", workers: int = 1) -> list[Path]:
    """Write OUT_STEM.png and .jpg; columns input | methods... | ground truth, one row per pair.
    `records`: the runs' records as load_runs reads them (the report has them already); `workers`:
    as `run_outputs` takes it."""
    first = runs[0][1]
    cfg = first["config"]
    # a demo run made before the demo refused --data-root may have one recorded, which it ignored;
    # runs tabled by their pixels may have read them from copies in other folders: any one still there
    roots = [] if cfg["dataset"] == "demo" else [Path(m["config"]["data_root"]) for _, m in runs if m["config"].get("data_root")]
    root = next((r for r in roots if r.exists()), roots[0] if roots else None)
    size = first["protocol"]["eval_size"]  # the runs of one table share their protocol (report.py)
    ds = get_dataset(cfg["dataset"], root, size, cfg.get("resize", "resize-crop"))
    ms = _maskset(first)
    gts = [np.asarray(ds.load(r.image_id)) for r in pairs.itertuples()]
    scored = dict(records[["image_id", "gt_sha256"]].dropna().drop_duplicates().itertuples(index=False)) \
        if "gt_sha256" in records else {}
    for r, gt in zip(pairs.itertuples(), gts):
        # an image edited since: the grid would show methods filling pixels they were not scored on
        if r.image_id in scored and pixel_sha256(gt) != scored[r.image_id]:
            raise InputError(f"{root}: image {r.image_id!r} has other pixels than when it was scored (edited or "
                             f"replaced since)")
    holes = [ms.load(ms.pick(r.bucket, int(r.image_index)), size) for r in pairs.itertuples()]
    gt_t = torch.from_numpy(np.stack(gts)).permute(0, 3, 1, 2).float() / 255
    hole_t = torch.from_numpy(np.stack(holes))[:, None].float()
    # the demo's rwconv, rwconv+poisson and rwconv+hflip+poisson share one network's fills: computed
    # once (and once mirrored), not four times a pair (the demo report: 40 s instead of 49 on 2 cores)
    memos: dict[str, Memo] = {}
    outputs = [(run_name(m), run_outputs(d, m, pairs, gt_t, hole_t, records, memos.setdefault(fill_identity(m), Memo()),
                                               workers))
               for d, m in runs]
    cols = len(outputs) + 2
    # 2.4 in at 110 dpi keeps each 256-px panel at about native resolution; a larger `run --size`
    # raises the dpi (not the inches, so the lettering keeps its place), up to MAX_PIXELS a figure
    w_in, h_in = 2.4 * cols, 2.5 * len(pairs) + 0.4
    dpi = min(110 * max(1.0, size / 256), (MAX_PIXELS / (w_in * h_in)) ** 0.5)
    with matplotlib.rc_context(LITERAL_TEXT):  # ids and labels as given, not as TeX; no pyplot (plots.py)
        fig = Figure(figsize=(w_in, h_in), dpi=dpi)
        axes = fig.subplots(len(pairs), cols, squeeze=False)
        for i, r in enumerate(pairs.itertuples()):
            key = pair_key(r.image_id, r.mask_file)
            gt, hole = gts[i], holes[i].astype(bool)
            masked = np.where(hole[..., None], 255, gt).astype(np.uint8)  # white holes, as the paper's figures
            panels = [("input", outline(masked, hole))] + [(name, outline(o[key], hole)) for name, o in outputs] + [("ground truth", gt)]
            for j, (name, img) in enumerate(panels):
                ax = axes[i, j]
                ax.imshow(img, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(name, fontsize=8)
                if j == 0:
                    ax.set_ylabel(f"{r.bucket}%\n{r.image_id}", fontsize=7)
        if title:
            fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        out_stem = Path(out_stem)
        out_stem.parent.mkdir(parents=True, exist_ok=True)
        # PNG, lossless, for papers; JPEG (a tenth of the size) for the HTML page. No PDF: it would
        # only wrap the same rasters at twice the PNG's size.
        png, jpg = out_stem.with_suffix(".png"), out_stem.with_suffix(".jpg")
        fig.savefig(png)
    small = Image.open(png).convert("RGB")
    if small.width > 1600:  # a screen's width is enough for the page; the PNG keeps full resolution
        small = small.resize((1600, round(small.height * 1600 / small.width)), Image.LANCZOS)
    small.save(jpg, quality=85)
    return [png, jpg]
