"""The `inpaintbench` command line."""
from __future__ import annotations

import contextlib
import errno
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import ProgressColumn, BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .errors import InputError, counted, one_line, refuse_repeats
from .metrics import known_metrics
from .paths import DEMO_METHODS, DEMO_REFERENCE, home_expanded, run_folders, runs_in, url_refusal
from .progress import LazyProgress, LogLines, message_console

# -h as well: the trainers (argparse) take it, and it is what most command lines answer
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Image-inpainting benchmark by hole size.",
                  context_settings={"help_option_names": ["-h", "--help"]})
masks_app = typer.Typer(no_args_is_help=True, help="Frozen mask sets: generate, verify, stats, import.")
app.add_typer(masks_app, name="masks")
console = message_console()


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        from .paths import git_commit

        commit = git_commit()  # a checkout's version number alone does not say which code made a number
        print(f"inpaintbench {version('inpaintbench')}" + (f" (git {commit[:12]})" if commit else ""))
        raise typer.Exit()


@app.callback()
def _root(_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                         help="Print the version (and the checkout's commit) and exit.")):
    """Image-inpainting benchmark by hole size."""


class _Bar:
    """Adapter from the runner's start/advance calls to a rich progress bar, and to a line every
    LogLines.every_s seconds where the output is not a terminal."""

    def __init__(self, progress: Progress, label: str):
        self.p, self.label, self.task = progress, label, None
        self.log = LogLines(progress, "pairs")

    def start(self, total: int, completed: int = 0):
        # first: pairs a resumed run had already, which its own rate must not count
        self.task = self.p.add_task(self.label, total=total, completed=completed, first=completed)

    def advance(self, n: int = 1):
        self.p.advance(self.task, n)
        self.log.line(self.task, self.label)


class _Rate(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task):
        # a task that ends between rich's speed samples has no speed but the one it finished at, and
        # one that ended in its first batch (a --limit 2 look) has no samples at all: its mean rate
        speed = task.finished_speed or task.speed
        if not speed and task.finished_time:  # rich keeps there the seconds it took, not a clock reading
            speed = (task.completed - task.fields.get("first", 0)) / task.finished_time
        return Text(f"{speed:.2f} {self.unit}/s" if speed else f"– {self.unit}/s")


def _progress(unit: str = "pairs") -> Progress:
    return LazyProgress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                         _Rate(unit), TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)


@contextlib.contextmanager
def _interrupted(said: str):
    """Ctrl-C stopped a command with its bar half drawn and not a word: it says `said`, what is kept.
    So does a disk that fills up, which had said only "error: No space left on device"."""
    try:
        yield
    except KeyboardInterrupt:
        console.print(f"interrupted: {said}")
        raise typer.Exit(130) from None
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {e.filename}" if e.filename else ""
        raise InputError(f"{e.strerror or 'no space left on the disk'}{where}: {said}, once there is space") from None


def _resumable(where: Path):
    return _interrupted(f"every pair scored so far is kept in {where}; the same command again resumes")


def _print_error(text: str) -> None:
    console.print(Text.assemble(("error:", "red"), f" {text}"), highlight=False)


def _guard(fn):
    """Bad input ends with one red line and exit code 2, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except (InputError, OSError) as e:  # OSError: a path the file system refuses (--out naming a file)
            _print_error(one_line(e))
            raise typer.Exit(2)
    return wrapper


# typer takes `--buckets 10-20 20-30` as --buckets 10-20 plus a stray 20-30, refused as "unexpected
# extra argument": commands without positional arguments take the strays and say what to type
ONE_VALUE_EACH = {"allow_extra_args": True}
SEVERAL_VALUES = ("an option that takes several values is given once per value (--buckets 10-20 --buckets 20-30, "
                  "--metrics psnr --metrics ssim)")


def _one_value_each(ctx: typer.Context | None, given: dict[str, list[str] | None] | None = None) -> None:
    """Values left over after the options (`--buckets 20-30 30-40`), and values of `given`'s options
    joined by commas, as many tools take lists (`--buckets 10-20,20-30` was "unknown bucket"),
    are answered with what to type."""
    if ctx is not None and ctx.args:
        raise InputError(f"unexpected {' '.join(ctx.args)}: {SEVERAL_VALUES}")
    for flag, values in (given or {}).items():
        for v in values or []:
            if "," in v and all(parts := [p.strip() for p in v.split(",")]):
                raise InputError(f"{flag} {v!r}: one value per {flag}: {' '.join(f'{flag} {p}' for p in parts)}")


def _no_stray_values(runs: List[Path]) -> None:
    """`report --metrics psnr ssim RUN` takes ssim for a run folder: say what was meant."""
    from .metrics import METRIC_INFO
    from .report import REPORT_FORMATS

    for d in runs:
        if not d.exists() and str(d) in (*METRIC_INFO, *REPORT_FORMATS, "all"):
            raise InputError(f"{d}: not a run folder; {SEVERAL_VALUES}")


WORKERS_HELP = ("Processes a classical method (PatchMatch, biharmonic) spreads each batch over, at most --batch-size; "
                "no output depends on it (default: every usable core).")


@app.command(context_settings=ONE_VALUE_EACH)
@_guard
def run(
    ctx: typer.Context,
    method: str = typer.Option(..., help="Registered method name (see `inpaintbench methods`), or a run's name such as "
                                         "rwconv+hflip+poisson (= --self-ensemble hflip --blend poisson)."),
    dataset: str = typer.Option("demo", help="demo, folder, places2, celeba-hq or paris."),
    data_root: Optional[Path] = typer.Option(None, help="Root folder of the dataset (not needed for demo)."),
    masks: Optional[Path] = typer.Option(None, help="Mask set folder with manifest.csv (default: the frozen set)."),
    buckets: Optional[List[str]] = typer.Option(None, help="Buckets to evaluate, e.g. --buckets 10-20 --buckets 50-60."),
    limit: Optional[int] = typer.Option(None, help="Evaluate only the first N images."),
    batch_size: int = typer.Option(8, help="(image, mask) pairs per call to the method: memory and speed; each output is its own input's."),
    workers: Optional[int] = typer.Option(None, help=WORKERS_HELP),
    device: str = typer.Option("cpu", help="cpu or cuda[:N]."),
    weights: Optional[str] = typer.Option(None, help="Weights file for learned methods (default: shipped)."),
    resize: str = typer.Option("resize-crop", help="resize-crop, center-crop or exact."),
    save_images: bool = typer.Option(False, help="Also write composited outputs as PNG."),
    deep_metrics: bool = typer.Option(True, help="FID, KID, perceptual error, LPIPS besides the pixel metrics."),
    # None when not given, so that --no-deep-metrics can refuse a network it would not use
    fid_network: Optional[str] = typer.Option(None, help="inception-tf (default; offline, shipped) or inception-pytorch-fid."),
    vgg_weights: Optional[str] = typer.Option(None, help="VGG16 ImageNet weights for the perceptual error and LPIPS-vgg (default: torch cache)."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default runs/DATASET/NAME: the run's name, --label's or the method's, with '_' for characters a folder name should not have)."),
    predictions: Optional[Path] = typer.Option(None, help="With --method predictions: folder of <key>.png outputs (see export-inputs)."),
    allow_partial: bool = typer.Option(False, help="With --method predictions: score the pairs present, mark the run PARTIAL."),
    label: Optional[str] = typer.Option(None, help="Name of this run in records and reports (default: the method's), "
                                               "e.g. to table an ablation's weights beside the shipped ones; with the --out of a run "
                                               "made without it (or with another), that run's scored pairs are renamed, not scored again."),
    # None, not "none", when not given: `--method X+poisson --blend none` contradicts the name and is
    # refused, where a "none" default could not be told from the flag left out
    blend: Optional[str] = typer.Option(None, help="none (default), or poisson: blend the method's fill into the known "
                                                   "pixels (Pérez et al. 2003) before scoring; the run is named METHOD+poisson."),
    self_ensemble: Optional[str] = typer.Option(None, help="none (default), or hflip: average the method's output with its "
                                                           "output on the mirrored input, mirrored back (test-time "
                                                           "self-ensemble; 2x the time); the run is named METHOD+hflip."),
    size: int = typer.Option(256, help="Side in pixels images and masks are scored at (256: the paper's Table 1); another "
                                       "size needs a mask set of that size (--masks; `inpaintbench masks generate --size "
                                       "N`) and is another protocol, so its runs table only with runs of that size."),
):
    """Run one method over a dataset x mask buckets; resumable; writes records.jsonl + manifest.json."""
    _one_value_each(ctx, {"--buckets": buckets})
    from .masks import BUCKET_NAMES, DEFAULT_MASK_DIR
    from .runner import RunConfig, run as do_run, split_name
    from .workers import workers_or_every_core

    named = split_name(method)
    chosen = {"self_ensemble": self_ensemble, "blend": blend}
    for key, flag in (("self_ensemble", "--self-ensemble"), ("blend", "--blend")):
        if named[key] != "none" and chosen[key] not in (None, named[key]):
            raise InputError(f"--method {method} says {named[key]}, {flag} says {chosen[key]}: give one")
        chosen[key] = chosen[key] or named[key]
    method = named["method"]
    if not deep_metrics and (fid_network or vgg_weights):
        raise InputError("--fid-network and --vgg-weights choose networks for the deep metrics, which --no-deep-metrics "
                         "turns off: give one or the other")
    options = {}
    if predictions or allow_partial:
        if method != "predictions":
            raise InputError("--predictions and --allow-partial belong to --method predictions")
        options = {"predictions": str(predictions.resolve()) if predictions else None, "allow_partial": allow_partial}
    cfg = RunConfig(method=method, dataset=dataset, data_root=str(data_root) if data_root else None,
                    masks=str(masks or DEFAULT_MASK_DIR), buckets=list(buckets or BUCKET_NAMES), limit=limit,
                    batch_size=batch_size, device=device, weights=weights, resize=resize, save_images=save_images,
                    deep_metrics=deep_metrics, fid_network=fid_network or RunConfig.fid_network, vgg_weights=vgg_weights, method_options=options,
                    label=label, blend=chosen["blend"], self_ensemble=chosen["self_ensemble"], size=size,
                    workers=workers_or_every_core(workers))
    out = out or cfg.default_out()
    from . import registry

    if workers is not None and method in registry.available() and not getattr(registry.method_class(method), "parallel", False):
        # it went unused without a word (a script passing one --workers to every method is fine)
        console.print(f"note: --workers spreads PatchMatch and biharmonic over processes; {method} runs in this "
                      f"process whatever it is", highlight=False)
    with _resumable(out), _progress() as p:
        do_run(cfg, out, progress=_Bar(p, cfg.name), log=lambda s: p.console.print(s, highlight=False))
    console.print(f"records in {out}")


@app.command("export-inputs", context_settings=ONE_VALUE_EACH)
@_guard
def export_inputs_cmd(
    ctx: typer.Context,
    out: Path = typer.Option(..., help="Folder to write inputs/, holes/, pairs.csv and README.txt into."),
    dataset: str = typer.Option("demo", help="demo, folder, places2, celeba-hq or paris."),
    data_root: Optional[Path] = typer.Option(None, help="Root folder of the dataset (not needed for demo)."),
    masks: Optional[Path] = typer.Option(None, help="Mask set folder (default: the frozen set)."),
    buckets: Optional[List[str]] = typer.Option(None, help="Buckets to export, e.g. --buckets 10-20 --buckets 50-60 (default: all six)."),
    limit: Optional[int] = typer.Option(None, help="Only the first N images."),
    resize: str = typer.Option("resize-crop", help="resize-crop, center-crop or exact."),
    size: int = typer.Option(256, help="Side in pixels, as `run --size` (256: the paper's Table 1)."),
):
    """Write the exact masked inputs and holes a run scores, so an outside method can be run on them."""
    _one_value_each(ctx, {"--buckets": buckets})
    from .export import export_inputs

    with _interrupted(f"{out} holds part of this export (pairs.csv is written last); the same command again writes it "
                      f"whole"), _progress() as p:
        n = export_inputs(out, dataset, str(data_root) if data_root else None, str(masks) if masks else None,
                          list(buckets) if buckets else None, limit, resize, progress=_Bar(p, "export"), size=size)
    console.print(f"wrote {counted(n, 'pair')} to {out} (see {out / 'README.txt'})")


DEMO_RUNS = Path("reports/demo/runs")


#: a report file's format by its suffix; .txt takes Markdown, which reads as text
_FILE_FORMATS = {".md": "md", ".markdown": "md", ".txt": "md", ".csv": "csv", ".tex": "latex", ".html": "html", ".htm": "html"}


def _format_of_file(out: Path, given: str | None) -> str:
    """The one format `report --out FILE` writes: -f's, or the suffix's. `--out t.csv` and `--out t.tex`
    without -f wrote Markdown into them (the default -f), and a suffix -f contradicts (-f csv --out
    t.md) or that names no format (t.xlsx) was written to as it stood."""
    if given is not None and given not in ("md", "csv", "latex"):
        return given  # html and all are refused as several files, others by render, naming the formats it takes
    by_suffix = _FILE_FORMATS.get(out.suffix.lower())
    if by_suffix == "html" and given is None:
        raise InputError(f"--out {out}: the HTML page comes with its plots and grids; give --out a folder, which "
                         f"takes index.html")
    if by_suffix is None:
        raise InputError(f"--out {out}: {out.suffix} is no report format's suffix "
                         f"({', '.join(k for k in _FILE_FORMATS if _FILE_FORMATS[k] != 'html')}); for a folder, "
                         f"make it first or give a name without a suffix")
    if given is not None and given != by_suffix:
        raise InputError(f"--out {out}: its suffix says {by_suffix}, -f says {given}; name it "
                         f"{out.with_suffix({'md': '.md', 'csv': '.csv', 'latex': '.tex'}[given]).name}, or leave -f out")
    return by_suffix


def _names_folder(out: Path) -> bool:
    """An --out that names a folder for a command's files: one that exists, or a name without a suffix."""
    return out.is_dir() or not out.suffix


@app.command()
@_guard
def report(
    runs: Optional[List[Path]] = typer.Argument(None, metavar="RUN_DIR", help="Run directories to table side by side; a folder of runs (a demo's --out) stands for its runs (default: reports/demo/runs/*)."),
    format: Optional[List[str]] = typer.Option(None, "--format", "-f", help="md, csv, latex, html or all (tex and markdown "
                                               "too, any case); several (-f md -f csv) with --out DIR (default: md to stdout, all with --out DIR)."),
    out: Optional[Path] = typer.Option(None, help="A file (t.md, t.csv, t.tex: the suffix sets the format) for one of "
                                                  "md/csv/latex; otherwise a folder, for any formats (table1.md, ..., index.html)."),
    metrics: Optional[List[str]] = typer.Option(None, help="Metrics to show, e.g. --metrics psnr --metrics ssim (default: all available)."),
    reference: Optional[str] = typer.Option(None, help="Method the paired comparisons are made against (default: last run)."),
    grid_rows: int = typer.Option(1, help="Image-grid rows per bucket."),
    screenshot: bool = typer.Option(False, help="With html: also render index.png in headless Chromium."),
    workers: Optional[int] = typer.Option(None, help="Processes the image grids' PatchMatch or biharmonic fills are "
                                                      "spread over (default: every usable core)."),
):
    """Table 1 (+ bootstrap CIs, paired tests, plots, image grids, HTML page)."""
    _one_value_each(None, {"--metrics": metrics, "--format": format})
    from .report import REPORT_FORMATS, caption_for, ci_halfwidths, format_named, load_table, render, table1, write_report
    from .stats import summary
    from .workers import workers_or_every_core

    metrics = known_metrics(metrics)
    _no_stray_values(runs or [])
    asked = {"--screenshot": screenshot, "--grid-rows": grid_rows != 1, "--workers": workers is not None,
             "--reference": reference is not None}
    if not runs:
        if not DEMO_RUNS.is_dir():
            raise InputError("no run directories given, and no reports/demo/runs here; pass RUN_DIR ...")
        runs = runs_in(DEMO_RUNS)
        out = out or Path("reports/demo")
        reference = reference or (DEMO_REFERENCE if DEMO_REFERENCE in {d.name for d in runs} else None)
    else:
        runs = run_folders(runs)
    # `-f md --out DIR` had written the table as a file named DIR, or stopped at "a folder is in the
    # way" where DIR existed; it now writes DIR/table1.md
    folder = out is not None and _names_folder(out)
    # -f given twice was a single-value option: the last one written, the others dropped unsaid
    formats = list(dict.fromkeys(map(format_named, format or ["all" if folder else "md"])))
    if out is not None and not folder and len(formats) == 1:  # one file: its suffix decides, before what it writes is told
        formats = [_format_of_file(out, formats[0] if format else None)]
    if "all" in formats:
        formats = list(REPORT_FORMATS)
    # options for files these formats do not write went unused unsaid (-f md --screenshot)
    writes = set(formats) if folder or len(formats) > 1 else set()
    unused = [f"{flag} {does}" for flag, does, wants in (
        ("--screenshot", "renders the HTML page (-f html)", {"html"}),
        ("--grid-rows", "sets the HTML page's image grids (-f html)", {"html"}),
        ("--workers", "fills the HTML page's image grids (-f html)", {"html"}),
        ("--reference", "sets what comparisons.csv (-f csv) and the HTML page (-f html) compare against", {"csv", "html"}),
    ) if asked[flag] and not writes & wants]
    if unused:
        raise InputError("; ".join(unused) + f", which -f {' '.join(formats)}" + ("" if folder else " into one file")
                         + " does not write: add that -f, with --out a folder")
    if len(formats) > 1 or formats == ["html"] or folder:
        if not folder:
            raise InputError(f"--format {' '.join(format or formats)} writes several files: give --out a folder")
        with _interrupted(f"{out} holds only part of this report, beside any earlier one's files (index.html is "
                          f"written last); the runs are untouched: the same command again writes it whole"):
            files = write_report(runs, out, tuple(formats), metrics,
                                 reference, grid_rows, screenshot, log=lambda s: console.print(s, highlight=False),
                                 workers=workers_or_every_core(workers))
        console.print(f"wrote {counted(len(files), 'file')} to {out}" + (f" (open {out / 'index.html'})" if out / "index.html" in files else ""))
        return
    fmt = formats[0]
    df, manifests, shown = load_table(runs, metrics)
    t = table1(df, shown)
    text = render(t, fmt, caption_for(manifests, df), None if fmt == "csv" else ci_halfwidths(t, summary(df, shown)))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text)


@app.command(context_settings=ONE_VALUE_EACH)
@_guard
def demo(
    ctx: typer.Context,
    methods: Optional[List[str]] = typer.Option(None, "--method", help="Methods to run, METHOD[+hflip][+poisson], one --method "
                                                f"each (default: {', '.join(DEMO_METHODS)})."),
    out: Path = typer.Option(Path("runs/demo"), help="Parent folder of the per-method runs."),
    limit: Optional[int] = typer.Option(None, help="Only the first N of the 32 demo images (--limit 2: a one-minute look)."),
    device: str = typer.Option("cpu", help="cpu or cuda[:N], for every method and metric network (each run's manifest "
                                           "records the hardware; the committed reports/demo was made on the CPU)."),
    workers: Optional[int] = typer.Option(None, help=WORKERS_HELP),
):
    """The README's first command: run the default methods on the embedded demo set, print Table 1 and
    write every report format (tables, plots, grids, HTML) next to the runs."""
    _one_value_each(ctx, {"--method": methods})
    from collections import Counter

    from . import registry
    from .masks import BUCKET_NAMES, DEFAULT_MASK_DIR
    from .report import write_report
    from .runner import FolderHoldsMore, Memo, RunConfig, run as do_run, split_name
    from .workers import workers_or_every_core

    names = methods or [m for m in DEMO_METHODS if split_name(m)["method"] in registry.available()]
    refuse_repeats("--method", names)  # one run folder each: the report could not table both
    for name in names:
        if registry.method_class(m := split_name(name)["method"]).wants_keys:  # its outputs: files the demo is not given
            raise InputError(f"--method {m} scores outputs made elsewhere, which the demo takes no option for: "
                             f"`inpaintbench run --method {m} --dataset demo --out RUN_DIR` with its options (predictions: "
                             f"--predictions DIR), then `inpaintbench report {out} RUN_DIR` tables it beside the demo's runs")
    dirs = []
    # a method with several runs computes its outputs once for all (rwconv's network: twice, for the
    # mirrored inputs, not four times); kept only for such methods, in memory until the demo ends
    runs_of = Counter(split_name(n)["method"] for n in names)
    memos: dict[str, Memo] = {}
    workers = workers_or_every_core(workers)  # the runs' and the report's grids'
    with _resumable(out):  # the report too: its runs are kept, the same command again writes it
        with _progress() as p:
            for name in names:
                cfg = RunConfig(**split_name(name), masks=str(DEFAULT_MASK_DIR), buckets=list(BUCKET_NAMES), limit=limit,
                                device=device, workers=workers)
                try:
                    dirs.append(do_run(cfg, out / name, progress=_Bar(p, name), log=lambda s: p.console.print(s, highlight=False),
                                       memo=memos.setdefault(cfg.method, Memo()) if runs_of[cfg.method] > 1 else None))
                except FolderHoldsMore as e:  # its advice names run's --buckets, which the demo does not take
                    raise InputError(f"{e.out} holds a demo of {counted(e.images, 'image')}, more than --limit {limit}: "
                                     f"--limit {e.images} or more resumes it (none: all 32); a smaller look takes "
                                     f"another --out") from None
        write_report(dirs, out, reference=DEMO_REFERENCE if DEMO_REFERENCE in names else None,
                     log=lambda s: console.print(s, highlight=False), workers=workers)
    sys.stdout.write((out / "table1.md").read_text())
    console.print(f"tables, plots, grids and {out / 'index.html'} written to {out}")


@app.command()
def weights():
    """Every pretrained network the tool can use: where it was found, its sha256, how to provide it."""
    from .networks import inventory

    import torch

    # where "copy it to $TORCH_HOME/hub/checkpoints/" means on this machine, TORCH_HOME set or not
    out = message_console(stderr=False)  # a long path copies as one line, and as it is spelt
    out.print(f"pretrained networks (nothing is downloaded; $TORCH_HOME/hub/checkpoints here is "
              f"{Path(torch.hub.get_dir()) / 'checkpoints'})", highlight=False)
    # a block per network, not a five-column table: in 80 columns that folded every path and name
    for r in inventory():
        found = ("found", "green") if r["found"] and not r["problem"] else ("found, sha256 not its name's", "red") if r["found"] else ("not found", "red")
        out.print(Text.assemble("\n", (r["network"], "bold"), "  ", found,
                                f"  sha256 {r['sha256'][:12]}" if r["found"] else ""), highlight=False)
        out.print(f"  {'at' if r['found'] else 'to provide'}: {r['where'] or r['how_to_provide']}", highlight=False)
        if r["problem"]:
            out.print(f"  problem: {r['problem']}; copy the file again", highlight=False)
        out.print(f"  used for: {r['used_for']}", highlight=False)


@app.command()
@_guard
def bench(
    target: str = typer.Argument(..., metavar="TARGET", help="'metrics', 'report', 'set-metrics', or a method name (e.g. rwconv)."),
    out: Optional[Path] = typer.Option(None, help="JSON output (default reports/bench/TARGET.json)."),
    pairs: Optional[int] = typer.Option(None, help="metrics: (image, mask) pairs for the speed comparison (96); "
                                                   "report: pairs a bucket (36,500, Places2's test set); set-metrics: "
                                                   "images (36,500)."),
    methods: int = typer.Option(10, help="report: runs in the made-up report."),
    memory_sizes: List[int] = typer.Option([100, 1000], help="metrics: pair counts for the peak-memory runs."),
    weights: Optional[str] = typer.Option(None, help="method: weights file."),
    cpu: bool = typer.Option(True, help="method: also time the CPU (--no-cpu on a GPU machine times the GPU alone)."),
):
    """Speed/memory benchmarks written as JSON under reports/bench/ (not tests)."""
    from . import registry
    from .bench import bench_method, bench_metrics, bench_report, bench_set_metrics

    if target not in ("metrics", "report", "set-metrics"):
        if target not in registry.available():  # "unknown method", naming methods only
            timed = [m for m in registry.available() if not registry.method_class(m).wants_keys]
            raise InputError(f"unknown bench target {target!r}; targets: metrics, report, set-metrics, or a method: "
                             f"{', '.join(timed)}")
        if registry.method_class(target).wants_keys:
            raise InputError(f"{target} reads outputs made elsewhere, so it has no fill to time: bench the method "
                             f"that made them")
    # an option of another target was dropped unsaid (bench rwconv --pairs 5 timed its own batches)
    if target in ("metrics", "report", "set-metrics") and weights is not None:
        raise InputError(f"--weights is for a method's benchmark (bench rwconv --weights F), not {target}'s")
    if target not in ("metrics", "report", "set-metrics") and pairs is not None:
        raise InputError(f"--pairs is for the metrics, report and set-metrics benchmarks; bench {target} times "
                         f"batches of 1 and 8 images (and 64 on a GPU)")
    other = [f"{flag} is for {whose} benchmark" for flag, given, whose, ok in (
        ("--methods", methods != 10, "the report", target == "report"),
        ("--memory-sizes", list(memory_sizes) != [100, 1000], "the metrics", target == "metrics"),
        ("--no-cpu", not cpu, "a method's", target not in ("metrics", "report", "set-metrics"))) if given and not ok]
    if other:
        raise InputError("; ".join(other) + f": bench {target} does not use {'it' if len(other) == 1 else 'them'}")
    out = out or Path("reports/bench") / f"{target}.json"
    out.parent.mkdir(parents=True, exist_ok=True)  # a folder that cannot be made is refused before minutes of timing
    # `pairs or default` took --pairs 0 for the default: 36,500 pairs timed instead of a refusal
    if target == "metrics":
        r = bench_metrics(out, 96 if pairs is None else pairs, tuple(memory_sizes), log=console.print)
    elif target == "report":
        r = bench_report(out, 36_500 if pairs is None else pairs, methods, log=console.print)
    elif target == "set-metrics":
        r = bench_set_metrics(out, 36_500 if pairs is None else pairs, log=console.print)
    else:
        r = bench_method(target, out, weights, cpu=cpu, log=console.print)
    console.print(f"wrote {out}")
    return r


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
@_guard
def train_cmd(ctx: typer.Context, method: str = typer.Argument(..., metavar="NAME", help="A method that declares a trainer (see `inpaintbench methods`).")):
    """Train a learned method; every further option goes to its trainer (`inpaintbench train NAME --help` lists them)."""
    from importlib.metadata import entry_points

    eps = {ep.name: ep for ep in entry_points(group="inpaintbench.trainers")}
    trainable = f"trainable: {', '.join(sorted(eps)) or 'none'}"
    if method in ("-h", "--help"):  # the trainer's --help is passed on, so this command's own is answered here
        if text := ctx.get_help():  # typer's rich help prints itself and returns ""; click's returns the text
            typer.echo(text)
        typer.echo(trainable)
        return
    if method not in eps:
        raise InputError(f"method {method!r} has no trainer; {trainable}")
    eps[method].load()(list(ctx.args))


@app.command(context_settings=ONE_VALUE_EACH)
@_guard
def compare(
    ctx: typer.Context,
    run_a: Path = typer.Argument(..., metavar="RUN_A", help="Run directory A."),
    run_b: Path = typer.Argument(..., metavar="RUN_B", help="Run directory B (e.g. the same method with other weights)."),
    metrics: Optional[List[str]] = typer.Option(None, help="Metrics to compare, e.g. --metrics psnr --metrics ssim "
                                                "(default: every per-image metric both have)."),
    out: Optional[Path] = typer.Option(None, help="Also write the comparison as CSV to this file (a folder, or a name "
                                                  "without a suffix, takes comparisons.csv, as `report --out DIR`; not a report's folder)."),
):
    """A against B on the (image, mask) pairs both scored: per metric, over all pairs and per bucket,
    the mean difference A - B (95% paired bootstrap CI), pairs each is better on, Wilcoxon p, verdict."""
    _one_value_each(ctx, {"--metrics": metrics})
    _no_stray_values([run_a, run_b])
    from .metrics import SET_METRICS
    from .report import DEFAULT_METRICS, REPORT_FILES, load_runs, read_run_manifest, refuse_unscored
    from .runner import run_name
    from .stats import interval_text, paired, with_fdr

    metrics = known_metrics(metrics)
    if out is not None and not _names_folder(out) and out.suffix.lower() != ".csv":  # it wrote CSV into cmp.md
        raise InputError(f"--out {out}: compare writes CSV; name it {out.with_suffix('.csv').name}, or give a folder")
    if out is not None and _names_folder(out) and (out / "comparisons.csv").is_file() and \
            any((out / files[0]).is_file() for files in REPORT_FILES.values()):  # table1.md/.tex/.csv, index.html
        # a report's comparisons (its reference against every run) were replaced by one pair's
        raise InputError(f"--out {out} holds a report, whose comparisons.csv this would replace; give a file name "
                         f"(--out {out / 'compare.csv'}) or another folder")
    if run_a.resolve() == run_b.resolve():
        raise InputError(f"compare needs two runs; both are {run_a}")
    names = [run_name(read_run_manifest(d)) for d in (run_a, run_b)]
    if names[0] == names[1]:  # one method twice (two weights files): tell them apart by folder
        names = [str(run_a), str(run_b)]
    df, manifests = load_runs([run_a, run_b], names=names, pairs_only=True)
    if set_level := [m for m in metrics or [] if m in SET_METRICS]:
        raise InputError(f"--metrics {set_level[0]}: scored over each bucket's set of images, so it has no per-pair "
                         f"values to compare; `inpaintbench report` tables it per bucket")
    if metrics:
        refuse_unscored(df, manifests, metrics, every_run=True, names=names)
    cmp = with_fdr(paired(df, names[0], names[1], metrics or DEFAULT_METRICS, pooled=True))
    if cmp.empty:
        raise InputError(f"{run_a} and {run_b} share no scored (image, mask) pair")
    t = Table(title=f"A = {names[0]}, B = {names[1]}: A - B on the pairs both scored")
    for c in ("metric", "bucket", "pairs", "mean A - B", "95% CI", "A better", "B better", "Wilcoxon p", "BH q", "verdict"):
        t.add_column(c)
    for metric, rows in cmp.groupby("metric", sort=False):
        ordered = [*rows[rows.bucket == "all"].itertuples(), *rows[rows.bucket != "all"].itertuples()]  # pooled first
        for i, r in enumerate(ordered):
            t.add_row(metric if i == 0 else "", r.bucket, str(r.n_pairs), f"{r.mean_diff:+.4g}",
                      interval_text(r.ci_low, r.ci_high, "+.3g"), str(r.n_a_better), str(r.n_b_better), f"{r.wilcoxon_p:.2g}",
                      f"{r.wilcoxon_q:.2g}", r.verdict, end_section=i == len(ordered) - 1)
    Console(width=160, markup=False).print(t)  # markup off: a --label 'x[v2]' is no style
    if out:
        # as report's --out: `--out DIR` had stopped at "a folder is in the way" after the table was
        # shown, and a name without a suffix became a CSV file without one
        if _names_folder(out):
            out = out / "comparisons.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmp.to_csv(out, index=False)
        console.print(f"wrote {out}")


@app.command("check", context_settings=ONE_VALUE_EACH)
@_guard
def check_cmd(
    ctx: typer.Context,
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="Run directory to gate."),
    baseline: Path = typer.Option(Path("reports/baseline.json"), help="Committed baseline JSON."),
    tolerance: Optional[List[str]] = typer.Option(None, help="Per-metric absolute tolerance, e.g. --tolerance psnr=0.1 --tolerance ssim=0.002."),
    update: bool = typer.Option(False, help="Rewrite the baseline from this run (deliberately)."),
):
    """Exit 1 with a readable diff when any per-bucket metric regresses beyond its tolerance."""
    from .check import check, tolerances

    tol = tolerances(tolerance)
    _one_value_each(ctx)  # after the tolerances: `--tolerance psnr 0.1` is named as a tolerance without '='
    rows = check(run_dir, baseline, tol, update, log=lambda s: console.print(s, highlight=False))
    if update:
        return
    bad = [r for r in rows if r["regressed"]]
    t = Table(title=f"{run_dir} vs {baseline}: {counted(len(bad), 'regression')} in {counted(len(rows), 'check')}")
    for c in ("bucket", "metric", "baseline", "current", "delta", "tolerance", "status"):
        t.add_column(c)
    fmt = lambda v: "–" if v is None else f"{v:.5g}"
    for r in (bad or rows):
        t.add_row(r["bucket"], r["metric"], fmt(r["baseline"]), fmt(r["current"]), fmt(r.get("delta")),
                  fmt(r.get("tolerance")), Text("REGRESSED" + (f" ({r['why']})" if r.get("why") else ""), style="red") if r["regressed"] else "ok")
    # fixed width: CI logs are not terminals, and a cut diff is no diff; markup off, as `console`
    Console(width=140, markup=False).print(t)
    if bad:
        raise typer.Exit(1)


@app.command("methods")
def list_methods():
    """List registered methods."""
    from . import registry

    out = message_console(stderr=False)  # the listing is the command's output, for `| grep` and `> FILE`
    for name in registry.available():
        try:
            cls = registry.method_class(name)
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        except InputError as e:
            doc = f"[unavailable: {e}]"
        out.print(f"{name:16s} {doc}", highlight=False)


@masks_app.command("verify")
@_guard
def masks_verify(root: Optional[Path] = typer.Argument(None, metavar="DIR", help="Mask set folder (default: the frozen set).")):
    """Re-hash and re-measure every mask; exit 1 on any mismatch."""
    from .masks import DEFAULT_MASK_DIR, MaskSet, verify

    root = root or DEFAULT_MASK_DIR
    problems = verify(root)
    for line in problems:
        console.print(line, style="red", highlight=False)
    if problems:
        console.print(f"{root}: {counted(len(problems), 'problem')}", style="red", highlight=False)
        raise typer.Exit(1)
    console.print(f"{root}: {len(MaskSet(root).rows)} masks verified ({MaskSet(root).id})")


@masks_app.command("stats")
@_guard
def masks_stats(root: Optional[Path] = typer.Argument(None, metavar="DIR", help="Mask set folder (default: the frozen set).")):
    """Per-bucket mean ratio, median components, stroke width, share touching the border."""
    from .masks import DEFAULT_MASK_DIR
    from .masks.build import stats

    df = stats(root or DEFAULT_MASK_DIR)
    t = Table(title=f"mask set {root or DEFAULT_MASK_DIR}")
    for c in df.columns:
        t.add_column(c)
    for r in df.itertuples(index=False):
        # 4 significant digits: a median of two rounded widths printed as 197.36599999999999
        t.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r])
    # the column names are long: an 80-column log cut them to 'mean_rat…'; markup off, as `console`
    Console(width=140, markup=False).print(t)
    if df.attrs.get("outside_buckets"):
        console.print(f"{counted(df.attrs['outside_buckets'], 'mask')} outside every bucket")


@masks_app.command("generate")
@_guard
def masks_generate(out: Path = typer.Option(..., help="A new or empty folder for the set."),
                   per_bucket: int = typer.Option(200, help="Masks per bucket (the frozen set: 200)."),
                   size: int = typer.Option(256, help="Side in pixels (the frozen set: 256, the evaluation size)."),
                   seed: int = typer.Option(0, help="Seed of the stroke generator (the frozen set: 0).")):
    """Generate a mask set (the frozen set was made with the defaults)."""
    from .masks.build import generate_set

    with _progress("masks") as p:
        t = p.add_task("masks", total=per_bucket * 6)
        generate_set(out, per_bucket, size, seed, progress=lambda: p.advance(t))
    console.print(f"wrote {out}")


@masks_app.command("import")
@_guard
def masks_import(src: Path = typer.Argument(..., metavar="SRC"), polarity: str = typer.Option(..., help="hole-white or hole-black"),
                 out: Path = typer.Option(..., help="A new or empty folder outside SRC."),
                 size: int = typer.Option(256, help="Side in pixels after the nearest-neighbour resize (256, the evaluation size).")):
    """Import an outside mask set: nearest resize, binarise, measure, bucket, manifest."""
    from .masks.build import import_set, mask_sources

    with _progress("masks") as p:
        t = p.add_task("import", total=len(mask_sources(src)))
        import_set(src, out, polarity, size, progress=lambda: p.advance(t), log=lambda s: p.console.print(s, highlight=False))
    console.print(f"wrote {out}")


def main():
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    argv = home_expanded(sys.argv[1:])
    if refusal := url_refusal(argv):
        _print_error(refusal)
        sys.exit(2)
    app(args=argv)
