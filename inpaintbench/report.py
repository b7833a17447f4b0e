"""Table-1-style reports from one or more run directories.

Rows are (metric, bucket) as in the paper's Table 1, columns are methods, a final row per
bucket gives N. Runs made under different protocols, datasets, image counts or mask sets
refuse to share a table, with the difference named.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .errors import InputError
from .masks import BUCKETS
from .metrics import METRIC_INFO, SET_METRICS
from .runner import MANIFEST, RECORDS, SET_METRICS as SET_FILE, read_records

DEFAULT_METRICS = ("psnr", "l1", "l2", "ssim", "fid", "kid", "perceptual_vgg16", "perceptual_inception",
                   "lpips_alex", "lpips_vgg")
ARROW = {True: "↑", False: "↓"}


def _fid_network(m: dict):
    nets = m.get("metrics", {}).get("networks", {})
    return nets.get("fid", {}).get("sha256")


def load_runs(run_dirs: list[Path]) -> tuple[pd.DataFrame, list[dict]]:
    """Per-record frame (set-level metrics in df.attrs['set']) and the runs' manifests."""
    frames, manifests, sets = [], [], []
    for d in run_dirs:
        d = Path(d)
        mpath, rpath = d / MANIFEST, d / RECORDS
        if not mpath.is_file():
            raise InputError(f"{d}: not a run directory (no {MANIFEST}); make one with `inpaintbench run`")
        recs = read_records(rpath)
        if not recs:
            raise InputError(f"{d}: the run has no records yet")
        manifests.append(json.loads(mpath.read_text()))
        frames.append(pd.DataFrame(recs))
        if (d / SET_FILE).is_file():
            method = manifests[-1]["config"]["method"]
            for bucket, v in json.loads((d / SET_FILE).read_text()).items():
                sets.append({"method": method, "bucket": bucket, **v})
    first = manifests[0]
    for d, m in zip(run_dirs[1:], manifests[1:]):
        for what, key in (("protocol", lambda m: m["protocol"]["id"]), ("mask set", lambda m: m["masks"]["id"]),
                          ("dataset", lambda m: (m["dataset"]["name"], m["dataset"].get("root"), m["dataset"]["evaluated_images"])),
                          ("FID network weights", _fid_network)):
            if key(m) != key(first):
                raise InputError(f"cannot table {d} with {run_dirs[0]}: {what} differs ({key(m)} vs {key(first)})")
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(["method", "image_id", "mask_file"])
    if dup.any():
        raise InputError(f"method {df[dup].method.iloc[0]!r} appears in more than one run directory")
    df.attrs["set"] = pd.DataFrame(sets)
    return df, manifests


def table1(df: pd.DataFrame, metrics=DEFAULT_METRICS) -> pd.DataFrame:
    """Means per (metric, bucket) x method, in display units, plus an N row per bucket."""
    methods = list(dict.fromkeys(df.method))
    order = [b.name for b in BUCKETS if b.name in set(df.bucket)]
    sets = df.attrs.get("set", pd.DataFrame())
    per_image = [m for m in metrics if m in df.columns]
    means = df.groupby(["bucket", "method"])[per_image].mean()
    if len(sets):
        means = means.join(sets.set_index(["bucket", "method"])[[m for m in SET_METRICS if m in sets.columns]], how="left")
    rows = {}
    for m in metrics:
        if m not in means.columns or means[m].isna().all():
            continue
        higher, scale, label = METRIC_INFO[m]
        for b in order:
            rows[(f"{label} {ARROW[higher]}", b + "%")] = [means.loc[(b, meth), m] * scale if (b, meth) in means.index else float("nan")
                                                           for meth in methods]
    counts = df.groupby(["bucket", "method"]).size()
    for b in order:
        rows[("N", b + "%")] = [counts.get((b, meth), 0) for meth in methods]
    t = pd.DataFrame.from_dict(rows, orient="index", columns=methods)
    t.index = pd.MultiIndex.from_tuples(t.index, names=["metric", "mask"])
    return t


def _best(t: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame: True where a cell is the best of its row (ties all marked)."""
    best = pd.DataFrame(False, index=t.index, columns=t.columns)
    for idx in t.index:
        if idx[0] == "N":
            continue
        row = t.loc[idx].astype(float)
        target = row.max() if idx[0].endswith(ARROW[True]) else row.min()
        best.loc[idx] = row == target
    return best


def _fmt(idx, v) -> str:
    if idx[0] == "N":
        return f"{int(v)}"
    if pd.isna(v):
        return "–"
    return f"{v:.3f}" if idx[0].startswith("SSIM") else f"{v:.2f}"


def render(t: pd.DataFrame, fmt: str, caption: str = "") -> str:
    if fmt == "csv":
        return t.to_csv()
    best = _best(t)
    cells = pd.DataFrame({c: [_fmt(i, t.loc[i, c]) for i in t.index] for c in t.columns}, index=t.index)
    if fmt == "md":
        shown = cells.copy()
        for c in t.columns:
            shown[c] = [f"**{v}**" if best.loc[i, c] else v for i, v in zip(t.index, cells[c])]
        body = shown.reset_index().to_markdown(index=False, disable_numparse=True)  # keep our formatting
        return (f"{caption}\n\n" if caption else "") + body + "\n"
    if fmt == "latex":
        sty = cells.style.apply(lambda col: ["textbf:--rwrap;" if best.loc[i, col.name] else "" for i in col.index])
        return sty.to_latex(hrules=True, caption=caption or None, multirow_align="t",
                            column_format="ll" + "r" * len(t.columns))
    raise InputError(f"unknown report format {fmt!r}; expected csv, md or latex")


def caption_for(manifests: list[dict]) -> str:
    m = manifests[0]
    methods = "; ".join(f"{x['method']['name']} (weights: {x['method'].get('weights') or 'none'}"
                        + (f", sha256 {x['method']['weights_sha256'][:12]}" if x["method"].get("weights_sha256") else "") + ")"
                        for x in manifests)
    nets = m.get("metrics", {}).get("networks", {})
    used = "; ".join(f"{k}: {v.get('network', v.get('backbone', ''))} sha256 {str(v.get('sha256', v.get('backbone_sha256', '')))[:12]}"
                     for k, v in nets.items())
    missing = "; ".join(f"{k} unavailable ({v})" for k, v in m.get("metrics", {}).get("unavailable", {}).items())
    return (f"Dataset {m['dataset']['name']} ({m['dataset']['evaluated_images']} images), masks {m['masks']['id']}, "
            f"protocol {m['protocol']['id']}. Methods: {methods}."
            + (f" Networks: {used}." if used else "") + (f" {missing}." if missing else "")
            + " FID/KID per bucket compare N composites with the N ground-truth images (N in the last rows).")
