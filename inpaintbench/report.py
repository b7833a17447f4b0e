"""Table-1-style reports from one or more run directories.

Rows are (metric, bucket) as in the paper's Table 1, columns are methods, a final row per
bucket gives N. Runs made under different protocols, datasets, image counts or mask sets
refuse to share a table, with the difference named.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .data.base import other_images, refuse_out_inside
from .data.image_io import not_a_folder
from .errors import (
    InputError,
    counted,
    did_you_mean,
    read_json,
    refuse_below,
    refuse_repeats,
)
from .lock import exclusive
from .masks import BUCKETS
from .metrics import METRIC_INFO, SET_METRICS, known_metrics
from .metrics.suite import network_ids, run_networks
from .paths import RUN_FOLDER, run_folders, runs_in, safe_name
from .runner import MANIFEST, MANIFEST_HINT, RECORDS, read_record_columns, run_name
from .runner import SET_METRICS as SET_FILE

DEFAULT_METRICS = ("psnr", "l1", "l2", "ssim", "fid", "kid", "perceptual_vgg16", "perceptual_inception",
                   "lpips_alex", "lpips_vgg")
ARROW = {True: "↑", False: "↓"}


def read_run_manifest(d: Path) -> dict:
    if not (d / MANIFEST).is_file():
        # `check runs/demo`, `compare reports/demo RUN`: a folder of runs, as `report` takes, was
        # told to make a run with `inpaintbench run`
        if inner := runs_in(d):
            raise InputError(f"{d}: a folder of {counted(len(inner), 'run')} ({', '.join(r.name for r in inner)}), not "
                             f"one run: give one run's folder, as {inner[0]}")
        if inner := runs_in(Path(d) / "runs"):
            raise InputError(f"{d}: not one run; its runs/ holds {counted(len(inner), 'run')} "
                             f"({', '.join(r.name for r in inner)}): give one run's folder, as {inner[0]}")
        if Path(d).is_file():
            if (Path(d).parent / MANIFEST).is_file():  # its records.jsonl or manifest.json given for it
                raise InputError(f"{d}: a file of the run {Path(d).parent}; give the run's folder, {Path(d).parent}")
            raise InputError(f"{d}: {not_a_folder(d, RUN_FOLDER)}")  # a run sent packed (runs.tar.gz), or another file
        raise InputError(f"{d}: not a run directory (no {MANIFEST}); make one with `inpaintbench run`")
    return read_json(d / MANIFEST, MANIFEST_HINT)


def run_list(run_dirs) -> list:
    """Run folders as a list; one given alone from Python (a str was read as a run per character)."""
    return [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)


def load_runs(run_dirs: list[Path], names: list[str] | None = None,
              pairs_only: bool = False) -> tuple[pd.DataFrame, list[dict]]:
    """Per-record frame (set-level metrics in df.attrs['set'], see `set_frame`) and the runs' manifests.
    `names` replaces the runs' own names (their --label or method), e.g. for two runs of one method.
    `pairs_only`: the runs are compared on the pairs both scored (`compare`), so they may have
    evaluated different numbers of the dataset's images; a table's means need the same images."""
    run_dirs = run_list(run_dirs)
    if not run_dirs:  # from Python: an IndexError where the first run is read
        raise InputError("no run folders given")
    refuse_repeats("RUN_DIR", [str(Path(d).resolve()) for d in run_dirs])  # one run twice is not two runs of one method
    cannot = "cannot compare" if pairs_only else "cannot table"
    frames, manifests, sets, run_names, strings = [], [], [], [], {}
    for i, d in enumerate(run_dirs):
        d = Path(d)
        manifest = read_run_manifest(d)
        cols = read_record_columns(d / RECORDS, strings)
        if not cols:
            raise InputError(f"{d}: the run has no records yet")
        manifests.append(manifest)
        frames.append(pd.DataFrame(cols))
        del cols
        run_names.append(names[i] if names else run_name(manifests[-1]))
        if names:
            frames[-1]["method"] = names[i]
        if (d / SET_FILE).is_file():
            for bucket, v in read_json(d / SET_FILE).items():
                sets.append({"method": run_names[-1], "bucket": bucket, **v})
    first = manifests[0]
    # runs whose records carry their images' hashes are compared by pixels (below), so one dataset
    # copied to another folder (a colleague's runs, another machine) shares a table
    hashed = ["gt_sha256" in f and f["gt_sha256"].notna().all() for f in frames]
    for d, m, by_pixels in zip(run_dirs[1:], manifests[1:], hashed[1:]):
        # the size first: it is the protocol difference a user makes (`run --size`) and can read
        for what, key in (("evaluation size (--size)", lambda m: m["protocol"]["eval_size"]),
                          ("protocol", lambda m: m["protocol"]["id"]), ("mask set", lambda m: m["masks"]["id"]),
                          ("dataset", lambda m: m["dataset"]["name"]),
                          *([] if by_pixels and hashed[0] else
                            [("dataset folder (--data-root)", lambda m: m["dataset"].get("root"))]),
                          # the same files cropped otherwise are other ground truth: telea on center-crop
                          # and navier-stokes on resize-crop had shared a table
                          ("resizing of the images (--resize)", lambda m: m["dataset"].get("resize")),
                          *([] if pairs_only else [("number of images scored (--limit)",
                                                    lambda m: m["dataset"]["evaluated_images"])])):
            if key(m) != key(first):
                # a tuple of all three printed as "(('demo', None, 2) vs ('demo', None, 3))": say which one
                raise InputError(f"{cannot} {d} with {run_dirs[0]}: {what} differs ({key(m)} vs {key(first)})"
                                 + ("; a table's means need the same images: `inpaintbench compare` them on the pairs "
                                    "both scored" if what.startswith("number") else ""))
        if not pairs_only and other_images(m["dataset"], first["dataset"]):
            raise InputError(f"{cannot} {d} with {run_dirs[0]}: their dataset's list of images differs (files added "
                             f"or removed between the runs), so their means are over other images; `inpaintbench "
                             f"compare` them on the pairs both scored")
    # against the first run that had each network, not only the first run: that one may have had
    # no deep metrics, and a run without a network has no network-made number to disagree with
    seen: dict[str, tuple[Path, tuple]] = {}
    for d, m in zip(run_dirs, manifests):
        for name, w in network_ids(m).items():
            d0, w0 = seen.setdefault(name, (d, w))
            if w != w0:
                raise InputError(f"{cannot} {d} with {d0}: the {name} network's weights differ "
                                 f"(sha256 {', '.join(x[:12] for x in w)} vs "
                                 f"{', '.join(x[:12] for x in w0)}); numbers from two networks do not share a column")
    df = pd.concat(frames, ignore_index=True)
    _refuse_other_pixels(df, dict(zip(run_names, run_dirs)), cannot)
    dup = df.duplicated(["method", "image_id", "mask_file"])
    if dup.any():
        name = df[dup].method.iloc[0]
        where = [str(d) for d, n in zip(run_dirs, run_names) if n == name]
        raise InputError(f"method {name!r} appears in more than one run directory ({', '.join(where)}): run one "
                         f"again with --label NAME --out ITS_DIR (its scored pairs are kept, renamed) to table them side "
                         f"by side, or `inpaintbench compare` the two")
    # plain records, not a DataFrame: pandas compares attrs when merging frames, and a
    # DataFrame there has no truth value
    df.attrs["set"] = sets
    return df, manifests


def set_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The set-level metrics (FID, KID per method and bucket) load_runs attached to df."""
    return pd.DataFrame(df.attrs.get("set", []))


def unscored(df: pd.DataFrame, manifests: list[dict], metric: str, names: list[str] | None = None) -> dict[str, str]:
    """The runs without any value of `metric`, each with the reason its manifest gives (a network
    whose weights were absent, --no-deep-metrics). `names`: the runs' names in df, as load_runs's."""
    frame = set_frame(df) if metric in SET_METRICS else df
    out = {}
    for name, m in zip(names or [run_name(x) for x in manifests], manifests):
        if metric in frame.columns and frame.loc[frame.method == name, metric].notna().any():
            continue
        info = m.get("metrics", {})
        out[name] = info.get("unavailable", {}).get(metric) or (
            "run with --no-deep-metrics" if info.get("deep_metrics") == "off" else "no values in its records")
    return out


def refuse_unscored(df: pd.DataFrame, manifests: list[dict], metrics, every_run: bool = False, names=None) -> None:
    """Metrics a user named that the runs lack: a table left only its N rows, a comparison said
    the runs 'share no scored pair'. `every_run`: each run needs it (a comparison), else one."""
    for metric in known_metrics(metrics):  # PSNR from Python had been "not scored by" each run
        missing = unscored(df, manifests, metric, names)
        if missing and (every_run or len(missing) == len(manifests)):
            # a reason once for the runs it holds for: the demo's ten runs had repeated one ten times
            why: dict[str, list[str]] = {}
            for name, reason in missing.items():
                why.setdefault(reason, []).append(name)
            raise InputError(f"--metrics {metric}: not scored by " + "; ".join(f"{', '.join(names)} ({reason})"
                                                                                for reason, names in why.items()))


def _refuse_other_pixels(df: pd.DataFrame, dirs: dict, cannot: str) -> None:
    """One image id with other pixels in two runs (an image edited between them, another copy of the
    dataset, another --resize): their numbers are over other ground truth. Runs made before records
    carried the hash are not compared by it."""
    if "gt_sha256" not in df:
        return
    images = df[["method", "image_id", "gt_sha256"]].dropna().drop_duplicates(["image_id", "gt_sha256"])
    clash = images[images.duplicated("image_id", keep=False)]
    if len(clash):
        a, b = clash[clash.image_id == clash.image_id.iloc[0]].iloc[:2].itertuples()
        raise InputError(f"{cannot} {dirs.get(b.method, b.method)} with {dirs.get(a.method, a.method)}: image "
                         f"{a.image_id!r} has other pixels in each (sha256 {b.gt_sha256[:12]} vs {a.gt_sha256[:12]}): "
                         f"an image edited between the runs, another copy of the dataset, or another Pillow decoding "
                         f"it (each manifest's versions say which); run both on one copy with one Pillow")


def load_table(run_dirs: list[Path], metrics=None) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """`load_runs` for a table, and the metrics it shows: those a user named (each refused when
    no run scored it), or with None the defaults (each shown where some run has it)."""
    if isinstance(metrics, str):  # metrics="psnr" from Python: each character was a metric
        metrics = [metrics]
    df, manifests = load_runs(run_folders(run_list(run_dirs)))  # a folder of runs for its runs, as `report`
    if metrics:
        refuse_unscored(df, manifests, metrics)
    return df, manifests, list(metrics or DEFAULT_METRICS)


def per_image(df: pd.DataFrame) -> pd.DataFrame:
    """Every run's records in one long table, a row per (run, image, mask), for analyses of one's
    own (pandas, R, a spreadsheet) without reading each run's records.jsonl."""
    ident = ["method", "bucket", "image_id", "mask_file", "mask_sha256", "hole_ratio"]
    scores = [m for m in METRIC_INFO if m in df.columns and m not in SET_METRICS]
    return df[[c for c in ident if c in df.columns] + scores + (["seconds"] if "seconds" in df.columns else [])]


def row_label(metric: str) -> str:
    """Table 1's row name of a metric: its display label and direction, e.g. "PSNR ↑"."""
    higher, _, label = METRIC_INFO[metric]
    return f"{label} {ARROW[higher]}"


def table1(df: pd.DataFrame, metrics=DEFAULT_METRICS) -> pd.DataFrame:
    """Means per (metric, bucket) x method, in display units, plus an N row per bucket."""
    methods = list(dict.fromkeys(df.method))
    order = [b.name for b in BUCKETS if b.name in set(df.bucket)]
    sets = set_frame(df)
    per_image = [m for m in metrics if m in df.columns]
    means = df.groupby(["bucket", "method"])[per_image].mean()
    if len(sets):
        means = means.join(sets.set_index(["bucket", "method"])[[m for m in SET_METRICS if m in sets.columns]], how="left")
    rows = {}
    for m in metrics:
        if m not in means.columns or means[m].isna().all():
            continue
        scale = METRIC_INFO[m][1]
        for b in order:
            rows[(row_label(m), b + "%")] = [means.loc[(b, meth), m] * scale if (b, meth) in means.index else float("nan")
                                                           for meth in methods]
    counts = df.groupby(["bucket", "method"]).size()
    for b in order:
        rows[("N", b + "%")] = [counts.get((b, meth), 0) for meth in methods]
    t = pd.DataFrame.from_dict(rows, orient="index", columns=methods)
    t.index = pd.MultiIndex.from_tuples(t.index, names=["metric", "mask"])
    return t


def _best(t: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame: True where a cell is the best of two or more in its row as shown (ties all marked): by the
    unrounded means, "0.798" beside "**0.798**" (the demo's SSIM at 40-50%) told the reader of a
    difference the table does not show, and the paired comparisons are where one is tested."""
    best = pd.DataFrame(False, index=t.index, columns=t.columns)
    for idx in t.index:
        if idx[0] == "N":
            continue
        row = pd.Series([float(_fmt(idx, v)) if pd.notna(v) else float("nan") for v in t.loc[idx]], index=t.columns)
        if row.notna().sum() < 2:  # a value with none beside it (one run, or one that scored the bucket) beats nothing
            continue
        target = row.max() if idx[0].endswith(ARROW[True]) else row.min()
        best.loc[idx] = row == target
    return best


def _fmt(idx, v) -> str:
    if idx[0] == "N":
        return f"{int(v)}"
    if pd.isna(v):
        return "–"
    return f"{v:.3f}" if idx[0].startswith("SSIM") else f"{v:.2f}"


def ci_halfwidths(t: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Half-widths of the 95% bootstrap intervals, aligned with table1's cells, display units."""
    hw = pd.DataFrame(float("nan"), index=t.index, columns=t.columns)
    for r in summary.itertuples():
        idx = (row_label(r.metric), r.bucket + "%")
        if idx in hw.index and r.method in hw.columns:
            hw.loc[idx, r.method] = (r.ci_high - r.ci_low) / 2 * METRIC_INFO[r.metric][1]
    return hw


def _cells(t: pd.DataFrame, ci: pd.DataFrame | None) -> pd.DataFrame:
    def cell(i, c):
        v = _fmt(i, t.loc[i, c])
        if ci is not None and i[0] != "N" and not pd.isna(ci.loc[i, c]):
            v += f" ±{_fmt(i, ci.loc[i, c])}"
        return v
    return pd.DataFrame({c: [cell(i, c) for i in t.index] for c in t.columns}, index=t.index)


#: LaTeX's special characters, backslash first so the escapes added after it stay; then the
#: non-ASCII symbols the tables use, as commands pdflatex knows without extra packages
_LATEX = [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"),
          ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"),
          ("<", r"\textless{}"), (">", r"\textgreater{}"), ("|", r"\textbar{}"),
          ("±", r"$\pm$"), ("↑", r"$\uparrow$"), ("↓", r"$\downarrow$"), ("–", "--"), ("—", "---"), ("×", r"$\times$")]


def latex_text(s: str) -> str:
    """Plain text as LaTeX source. By hand: pandas' Styler escapes cells and labels (escape="latex")
    but neither its caption nor the unicode symbols pdflatex stops at (↑, ±), nor what TeX's default
    (OT1) fonts print as other characters (< > | as ¡ ¿ —), and its helper is private."""
    # the backslash's own escape contains braces, as does the break "-{}-" below: both go in last
    s = s.replace("\\", "\x00")
    # TeX's fonts join "--" into a dash ("--no-deep-metrics" printed as "–no-deep-metrics"): break
    # each pair before the unicode dashes below become such pairs on purpose
    s = re.sub("-(?=-)", "-\x01", s)
    for ch, tex in _LATEX[1:]:
        s = s.replace(ch, tex)
    return s.replace("\x00", _LATEX[0][1]).replace("\x01", "{}")


#: a format's other names, in any case: its file's suffix (table1.tex) and its name spelt out
FORMAT_ALIASES = {"tex": "latex", "markdown": "md", "htm": "html"}


def format_named(name: str) -> str:
    """The report format `name` means: `-f tex` and `-f Markdown` were "unknown report format"."""
    return FORMAT_ALIASES.get(name.lower(), name.lower())


def render(t: pd.DataFrame, fmt: str, caption: str = "", ci: pd.DataFrame | None = None) -> str:
    """ci: half-widths from ci_halfwidths, shown as "mean ±h" in md and latex (csv stays plain means)."""
    fmt = format_named(fmt)
    if fmt == "csv":
        return t.to_csv()
    best = _best(t)
    cells = _cells(t, ci)
    if fmt == "md":
        shown = cells.copy()
        for c in t.columns:
            shown[c] = [f"**{v}**" if best.loc[i, c] else v for i, v in zip(t.index, cells[c])]
        shown.columns = [c.replace("|", "\\|") for c in shown.columns]  # a label's '|' had split its column in two
        body = shown.reset_index().to_markdown(index=False, disable_numparse=True)  # keep our formatting
        return (f"{caption}\n\n" if caption else "") + body + "\n"
    if fmt == "latex":
        tex = cells.map(latex_text)
        tex.index = pd.MultiIndex.from_tuples([tuple(map(latex_text, i)) for i in t.index], names=t.index.names)
        tex.columns = [latex_text(c) for c in t.columns]
        tex_best = pd.DataFrame(best.values, index=tex.index, columns=tex.columns)
        sty = tex.style.apply(lambda col: ["textbf:--rwrap;" if tex_best.loc[i, col.name] else "" for i in col.index])
        return sty.to_latex(hrules=True, caption=latex_text(caption) if caption else None, multirow_align="t",
                            column_format="ll" + "r" * len(t.columns))
    raise InputError(f"unknown report format {fmt!r}; expected csv, md or latex")


def incomplete(manifests: list[dict], df: pd.DataFrame | None = None) -> list[str]:
    """Runs whose means cover fewer pairs than the other columns', which the N row alone says too
    quietly: PARTIAL (pairs a predictions folder had no output for) and, given the runs' records
    `df`, UNFINISHED."""
    partial = [f"{run_name(m)} is PARTIAL ({counted(len(m['skipped_pairs']), 'pair')} without output not scored)"
               for m in manifests if m.get("skipped_pairs")]
    return partial + (unfinished(manifests, df) if df is not None else [])


def unfinished(manifests: list[dict], df: pd.DataFrame) -> list[str]:
    """Runs stopped before the pairs they planned, and not yet run again."""
    out = []
    scored = df.groupby("method").size()
    for m in manifests:
        planned = m["dataset"]["evaluated_images"] * len(m["config"]["buckets"]) - len(m.get("skipped_pairs", []))
        if (n := int(scored.get(run_name(m), 0))) < planned:
            out.append(f"{run_name(m)} is UNFINISHED ({n} of {planned} pairs scored; its `inpaintbench run` command "
                       f"run again finishes it)")
    return out


def caption_for(manifests: list[dict], df: pd.DataFrame | None = None) -> str:
    """`df` (the runs' records) lets the caption say which runs are unfinished."""
    m = manifests[0]
    # runs of one weights file (rwconv, rwconv+poisson, rwconv+hflip+poisson) or of one set of
    # training photos (the baselines trained together) are said once each: the caption had
    # repeated the same file and the same nine photo sets three times
    first_of: dict[tuple, str] = {}

    def who(x: dict) -> str:
        name, method = run_name(x), x["method"]
        parts = [f"method {method['name']}"] if name != method["name"] else []
        weights = (method.get("weights"), method.get("weights_sha256"))
        if weights[0] and weights in first_of:
            parts.append(f"weights: {first_of[weights]}'s")
        else:
            first_of.setdefault(weights, name)
            parts.append(f"weights: {weights[0] or 'none'}" + (f", sha256 {weights[1][:12]}" if weights[1] else ""))
        if x["config"].get("self_ensemble", "none") != "none":
            parts.append(f"self-ensemble: {x['config']['self_ensemble']}")
        if x["config"].get("blend", "none") != "none":
            parts.append(f"fill blended: {x['config']['blend']}")
        return f"{name} ({', '.join(parts)})"

    methods = "; ".join(who(x) for x in manifests)
    trained: dict[tuple[int, str], list[str]] = {}
    for x in manifests:
        if photos := x["method"].get("training_photos"):
            sets = photos["sets"] + ([counted(photos["other_files"], "other file")] if photos["other_files"] else [])
            said = " + ".join(sets)
            if photos.get("demo_photos") and x["dataset"]["name"] == "demo":
                said += f"; NOT HELD OUT: trained on the demo set's source photos {', '.join(photos['demo_photos'])}"
            trained.setdefault((photos["count"], said), []).append(run_name(x))
    training = "; ".join(f"{count} for {', '.join(runs)} ({said})" for (count, said), runs in trained.items())
    # every run's networks and gaps, not the first run's: load_runs saw that they agree, and the
    # first may be a run without deep metrics beside runs with them
    nets: dict[tuple, dict] = {}
    gaps: dict[tuple[str, str], list[str]] = {}
    off = [run_name(x) for x in manifests if x.get("metrics", {}).get("deep_metrics") == "off"]
    for x in manifests:
        for role, net in run_networks(x).items():
            nets.setdefault(role, net)
        for metric, why in x.get("metrics", {}).get("unavailable", {}).items():
            gaps.setdefault((metric, why), []).append(run_name(x))
    deep = len(manifests) - len(off)
    used = "; ".join(f"{role}: {v.get('network', v.get('backbone', ''))} sha256 "
                     f"{str(v.get('sha256', v.get('backbone_sha256', '')))[:12]}" for (role, _), v in nets.items())
    missing = "; ".join(f"{metric} unavailable{'' if len(runs) == deep else ' for ' + ', '.join(runs)} ({why})"
                        for (metric, why), runs in gaps.items())
    partial = "; ".join(incomplete(manifests, df))
    side = m["protocol"]["eval_size"]
    return (f"Dataset {m['dataset']['name']} ({counted(m['dataset']['evaluated_images'], 'image')} at {side}x{side}), masks {m['masks']['id']}, "
            f"protocol {m['protocol']['id']}. Methods: {methods}." + (f" Training photos: {training}." if training else "")
            + (f" Networks: {used}." if used else "") + (f" {missing}." if missing else "")
            + (f" Deep metrics off (pixel metrics only) for {', '.join(off)}." if off and deep else "")
            + (" Pixel metrics only (made with --no-deep-metrics)." if not deep else "")
            + (f" {partial}." if partial else "")
            + (" FID/KID per bucket compare N composites with the N ground-truth images (N in the last rows);"
               " KID is the estimate unbiased for independent sets, and each composite shares most pixels with its own"
               " ground truth, which takes it below 0 at small holes: compare methods with each other, not with 0;"
               if deep else "")
            + " ± is the half-width of a seeded 95% bootstrap interval of the mean over images.")


#: what `report -f` takes (and "all", for every one of them)
REPORT_FORMATS = ("md", "csv", "latex", "html")
#: the files each format writes, as globs in the report's folder: what an earlier report wrote
#: there and this one did not (a plot of a metric no run has now, FID's set_metrics.csv, the worst
#: grid of another --reference) is removed, so one folder never holds two reports' files
REPORT_FILES = {"md": ("table1.md",), "latex": ("table1.tex",),
                "csv": ("table1.csv", "table1_ci.csv", "comparisons.csv", "per_image.csv", "set_metrics.csv"),
                "html": ("index.html", "index.png", "plots/*.png", "plots/*.pdf", "grids/*.png", "grids/*.jpg")}


def write_report(run_dirs: list[Path], out: Path, formats=REPORT_FORMATS, metrics=None,
                 reference: str | None = None, grid_rows: int = 1, screenshot: bool = False, log=print,
                 workers: int = 1) -> list[Path]:
    """Every format into OUT: table1.{md,csv,tex}, table1_ci.csv, comparisons.csv, per_image.csv,
    set_metrics.csv (FID, KID and its std per run and bucket, where some run has them), plots/,
    grids/ and a self-contained index.html (+ index.png with screenshot). `metrics`: the ones a
    user asked for, each refused when no run has it; None: every one some run has. `workers`: processes
    the grids' PatchMatch or biharmonic fills are spread over (1 from Python, as `RunConfig.workers`).
    Files of the formats written that an earlier report left in OUT are removed once this one is whole."""
    if isinstance(formats, str):  # formats="md" from Python: "unknown report format(s) ['d', 'm']"
        formats = (formats,)
    formats = tuple(map(format_named, formats))
    if "all" in formats:  # as `report -f all`; it was refused as unknown by a message that offered it
        formats = REPORT_FORMATS
    run_dirs = run_folders(run_list(run_dirs))  # a folder of runs (a demo's out) for its runs, as `report`
    unknown = set(formats) - set(REPORT_FORMATS)
    if unknown:
        raise InputError(f"unknown report format(s) {sorted(unknown)}; expected csv, md, latex, html or all")
    refuse_below(1, ("--grid-rows", grid_rows), ("--workers", workers))
    df, manifests, metrics = load_table(run_dirs, metrics)
    out = Path(out)
    methods = list(dict.fromkeys(df.method))
    reference = reference or methods[-1]
    if reference not in methods:  # before the folder is made: a refused report leaves none behind
        raise InputError(f"--reference {reference!r} is not among the runs' methods{did_you_mean(reference, methods)}: "
                         f"{', '.join(methods)}")
    if "html" in formats:
        for root in {m["dataset"]["root"] for m in manifests if m["dataset"].get("root")}:
            refuse_out_inside(out, root, "the report's grids and plots")
    out.mkdir(parents=True, exist_ok=True)
    with exclusive(out, "inpaintbench report"):  # two reports at once had left one folder of both's files
        written = _write_report(df, manifests, metrics, run_dirs, out, formats, reference, grid_rows, screenshot, log, workers)
        earlier = [f for fmt in formats for pattern in REPORT_FILES[fmt] for f in sorted(out.glob(pattern))
                   if f not in written]
        for f in earlier:
            f.unlink()
        if earlier:
            log(f"note: removed {counted(len(earlier), 'file')} of an earlier report in {out} that this one does not "
                f"write: {', '.join(f.relative_to(out).as_posix() for f in earlier[:5])}{', ...' * (len(earlier) > 5)}")
        if kept := [f.relative_to(out).as_posix() for fmt in REPORT_FORMATS if fmt not in formats
                    for pattern in REPORT_FILES[fmt] for f in sorted(out.glob(pattern))]:
            log(f"note: {out} also holds an earlier report's {', '.join(kept[:5])}{', ...' * (len(kept) > 5)} "
                f"(formats not asked for this time), which may not match this one")
    return written


def _write_report(df, manifests, metrics, run_dirs, out, formats, reference, grid_rows, screenshot, log, workers) -> list[Path]:
    from . import grids, plots, stats

    t = table1(df, metrics)
    summ = stats.summary(df, metrics)
    ci = ci_halfwidths(t, summ)
    caption = caption_for(manifests, df)
    written = []

    def put(name, text):
        (out / name).write_text(text)
        written.append(out / name)

    methods = list(dict.fromkeys(df.method))
    cmp = stats.with_fdr(pd.concat([stats.paired(df, reference, m, metrics) for m in methods if m != reference]
                                   or [pd.DataFrame()], ignore_index=True))
    if "md" in formats:
        put("table1.md", render(t, "md", caption, ci))
    if "latex" in formats:
        put("table1.tex", render(t, "latex", caption, ci))
    if "csv" in formats:
        put("table1.csv", render(t, "csv"))
        put("table1_ci.csv", summ.to_csv(index=False))
        put("comparisons.csv", cmp.to_csv(index=False))
        if len(sets := set_frame(df)):
            # FID and KID have no per-image values, so no bootstrap interval in table1_ci.csv: the
            # spread of KID over its subsets (empty where each subset is the whole set, as in the
            # plots), the set sizes and the rank warning are kept here
            put("set_metrics.csv", sets.assign(kid_std=plots.kid_spread(sets)).to_csv(index=False))
        # to the file, in pandas' chunks: as one string it would be the whole file in memory
        # again (720 MB for ten runs over Places2)
        per_image(df).to_csv(out / "per_image.csv", index=False)
        written.append(out / "per_image.csv")
    if "html" not in formats:
        return written
    from . import html as page_html

    plot_files = plots.metric_plots(summ, out / "plots", set_frame(df), methods, metrics)
    written += plot_files
    notes, grid_files = [], []
    runs = list(zip(run_dirs, manifests))
    for name, pairs in (("Random pairs per bucket (seeded)", grids.choose_pairs(df, grid_rows, "random")),
                        (f"Worst PSNR of {reference} per bucket", grids.choose_pairs(df, grid_rows, "worst", method=reference))):
        stem = out / "grids" / ("random" if name.startswith("Random") else f"worst_{safe_name(reference)}")
        try:
            files = grids.image_grid(runs, pairs, stem, df, name, workers)
        except InputError as e:
            notes.append(f"grid '{name}' not drawn: {e}")
            continue
        written += files
        grid_files.append((name, files[1]))
    notes += incomplete(manifests, df)
    shown = [m for m in metrics if m in df.columns] + [m for m in ("psnr_hole", "ssim_hole", "l1_hole") if m in df.columns]
    text = page_html.page("inpaintbench report", caption, t, _cells(t, ci), _best(t), cmp, plot_files, grid_files,
                          df, shown, manifests, notes)
    put("index.html", text)
    if screenshot:
        written.append(page_html.screenshot(out / "index.html", out / "index.png"))
    for n in notes:
        log(f"note: {n}")
    return written
