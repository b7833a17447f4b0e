"""`inpaintbench run`: every (image, mask) pair of a dataset through one method, scored, recorded.

Records go to RUN_DIR/records.jsonl, one JSON line per (image, mask), appended and fsynced
a batch at a time. A run killed at any moment is resumed by the same command: a partial last
line is cut off, finished pairs are skipped, nothing is computed twice.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field
from math import nan
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import registry
from .blend import BLENDS, blend_fill
from .ensemble import ENSEMBLES, self_ensemble as ensemble_of
from .data import get_dataset
from .data.base import ids_sha256, other_images
from .data.image_io import pixel_sha256
from .errors import InputError, MethodError, conflict_note, counted, is_out_of_memory, read_json, refuse_below
from .method import pair_key, pair_keys
from .lock import exclusive, whole_lines, write_atomic
from .paths import git_commit, repo_path, runs_in, safe_name
from .masks import BUCKET_NAMES, BUCKETS, DEFAULT_MASK_DIR, MaskSet, get_buckets
from .metrics.fid import Moments, fid_from_features, fid_from_moments, kid_from_features
from .metrics.pixel import pixel_metrics
from .metrics.suite import FEATURE_DIM, MetricSuite, network_ids
from .protocol import PROTOCOL, Protocol, protocol_for

RECORDS, MANIFEST, FEATURES, SET_METRICS = "records.jsonl", "manifest.json", "features_pool3.f32", "set_metrics.json"
_ROW_BYTES = FEATURE_DIM * 4
#: pillow decodes and resizes every image: the pixels a run scored (its records' gt_sha256) depend on it
_PACKAGES = ("inpaintbench", "torch", "torchvision", "numpy", "pillow", "scikit-image", "opencv-python-headless",
             "pytorch-fid", "lpips", "pypatchmatch")


@dataclass
class RunConfig:
    method: str
    dataset: str = "demo"
    data_root: str | None = None
    masks: str = str(DEFAULT_MASK_DIR)
    buckets: list[str] = field(default_factory=lambda: [b.name for b in BUCKETS])
    limit: int | None = None
    batch_size: int = 8
    device: str = "cpu"
    weights: str | None = None
    resize: str = "resize-crop"
    save_images: bool = False
    method_options: dict = field(default_factory=dict)
    deep_metrics: bool = True  # FID, KID, perceptual error, LPIPS (pixel metrics always)
    fid_network: str = "inception-tf"
    vgg_weights: str | None = None
    #: the run's name in records and reports (default: the method's); two runs of one method with
    #: different weights (an ablation, a checkpoint) need two names to share a table
    label: str | None = None
    #: post-process of the method's fill before it is scored (inpaintbench/blend.py); not a
    #: method's own output, so a blended run is named METHOD+poisson unless labelled
    blend: str = "none"
    #: the method's outputs averaged over flipped copies of its input (inpaintbench/ensemble.py),
    #: before any blend; named METHOD+hflip (METHOD+hflip+poisson with a blend) unless labelled
    self_ensemble: str = "none"
    #: the side images and masks are scored at (the protocol's 256 unless set): another size is
    #: another protocol, with a mask set of that size
    size: int = PROTOCOL.eval_size
    #: processes a classical method may spread each batch over (PerImageMethod.parallel); like
    #: batch_size no part of the run's identity, as no output depends on it. 1 here: workers start
    #: as new interpreters, which run a calling script again unless it keeps its work under
    #: `if __name__ == "__main__":`; the `run` and `demo` commands default to every usable core
    workers: int = 1

    def __post_init__(self):
        # one folder, one identity: 'imgs' and '/abs/imgs/' were two datasets to report (refused to
        # share a table), and 'imgs' resumed from another directory was the same run over other images
        if self.data_root:
            self.data_root = str(Path(self.data_root).resolve())

    @property
    def name(self) -> str:
        return _name(self.__dict__)

    def default_out(self) -> Path:
        """runs/DATASET/NAME, where `run` writes without an --out (the command's and Python's alike)."""
        return Path("runs") / self.dataset / safe_name(self.name)

    def identity(self) -> dict:
        """What must match for a resumed run to extend, not mix with, an earlier one."""
        return {"method": self.method, "dataset": self.dataset, "data_root": self.data_root, "weights": self.weights,
                "resize": self.resize, "method_options": self.method_options, "deep_metrics": self.deep_metrics,
                "fid_network": self.fid_network, "vgg_weights": self.vgg_weights,
                # only when set, so runs made before labels existed still resume
                **({"label": self.label} if self.label else {}),
                **{k: v for k in ("blend", "self_ensemble") if (v := getattr(self, k)) != "none"}}


def split_name(name: str) -> dict:
    """A run's name back into its RunConfig fields: 'rwconv+hflip+poisson' -> method rwconv,
    self_ensemble hflip, blend poisson; a plain method name -> the method, both 'none'. The
    demo's method list, `run --method` and the diagnoses' specs take names this way."""
    out = {"method": name, "self_ensemble": "none", "blend": "none"}
    for key, known in (("blend", BLENDS), ("self_ensemble", ENSEMBLES)):  # the order the suffixes are written in, reversed
        method, sep, suffix = out["method"].rpartition("+")
        if sep and method and suffix in known and suffix != "none":
            out.update({"method": method, key: suffix})
    head, *rest = out["method"].split("+")
    suffixes, methods = (set(BLENDS) | set(ENSEMBLES)) - {"none"}, registry.available()
    if (unknown := [r for r in rest if r not in suffixes]) and head in methods and out["method"] not in methods:
        # 'telea+foo' was "unknown method", naming a list that holds telea
        raise InputError(f"{name!r}: {head} is a method, but +{'+'.join(unknown)} is no suffix a run takes "
                         f"(+hflip, +poisson, in that order)")
    if head and set(rest) & suffixes:
        raise InputError(f"{name!r}: the self-ensemble comes before the blend, as METHOD+hflip+poisson")
    return out


def _name(config: dict) -> str:
    suffixes = [v for k in ("self_ensemble", "blend") if (v := config.get(k, "none")) != "none"]
    return config.get("label") or "+".join([config["method"], *suffixes])


def _earlier_sessions(old: dict | None) -> list[dict]:
    """The sessions a resumed run's manifest lists; a manifest written before they were listed
    gives its one (the last) session, whose records at start are not known."""
    if not old:
        return []
    if "sessions" in old:
        return old["sessions"]
    return [{"started": old.get("started"), "records_at_start": None,
             **{k: old[k] for k in ("versions", "git_commit", "hardware") if k in old}}]


def run_name(manifest: dict) -> str:
    """The name a run's records carry: its --label, else its method (+ its self-ensemble and blend, if any)."""
    return _name(manifest["config"])


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for p in _PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def cpu_model(cpuinfo: str | None = None) -> dict:
    """The processor, enough to tell two machines' timings apart: virtual machines often name only
    "AMD EPYC", where family/model/stepping (25/17/1: Zen 4) and the clock still differ. Read from
    /proc/cpuinfo (Linux; `cpuinfo`: its text), elsewhere platform.processor() alone; py-cpuinfo would
    add a dependency for these five lines. `isa`: the vector instructions torch's kernels use here."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    first = {}
    for line in cpuinfo.split("\n\n")[0].splitlines():  # the first processor's block
        key, sep, value = line.partition(":")
        if sep:
            first[key.strip()] = value.strip()
    fields = {"model_name": "model name", "family": "cpu family", "model": "model", "stepping": "stepping",
              "mhz": "cpu MHz"}
    out = {k: first[v] for k, v in fields.items() if first.get(v)} or {"model_name": platform.processor()}
    return {**out, "isa": torch.backends.cpu.get_cpu_capability()}


def _hardware(device: str) -> dict:
    hw = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
          "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
          # the kernels differ between processors: the demo's FID moved by 0.01 in a few cells from a
          # Zen 4 to a Zen 5 machine with the same torch, which "AMD EPYC, 2 cores" could not explain
          "cpu": cpu_model()}
    if device.startswith("cuda") and torch.cuda.is_available():
        hw["gpu"] = torch.cuda.get_device_name(torch.device(device))
        # TF32 convolutions (PyTorch's default) move an H100 run's PSNR by up to ~0.02 dB against
        # the CPU's fp32 on the demo set; a reader comparing runs across machines needs to know
        hw["tf32"] = {"cudnn_conv": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32}
    return hw


#: what to do with a run's manifest.json that is no JSON (written whole, so merged or edited)
MANIFEST_HINT = f"it describes the {RECORDS} beside it: restore it (from git or a copy)"


def _record_lines(path: Path | str, repair: bool = False) -> list[bytes]:
    """The complete lines of a records file, or of a run folder's; with repair, a torn last line
    (from a kill mid-write) is cut off the file too. [] where there is no file yet."""
    path = Path(path)  # a str from a script, as the README's Python example passes
    if path.is_dir():
        path = path / RECORDS
    if not path.is_file():
        return []
    return [line for line in whole_lines(path, cut=repair).splitlines() if line.strip()]


def _parsed(path: Path | str, repair: bool = False):
    """The complete records, each as a dict; a line that is none (a records file merged with git, or
    edited) is named with its place, where it had ended in a JSONDecodeError traceback."""
    for n, line in enumerate(_record_lines(path, repair), 1):
        try:
            yield json.loads(line)
        except json.JSONDecodeError as e:
            where = Path(path) / RECORDS if Path(path).is_dir() else path
            raise InputError(f"{where}: record {n} is not JSON ({e.msg}): {line[:40].decode(errors='replace')!r}"
                             + conflict_note(Path(where).read_text(errors="replace"))) from None


def read_records(path: Path | str, repair: bool = False) -> list[dict]:
    """All complete records of a run (its folder or its records file; see _record_lines). A path
    that is neither, nor a folder's records file yet to be written, is refused: a mistyped one read
    as a run with no records."""
    p = Path(path)
    if not (p.exists() or (p.name == RECORDS and p.parent.is_dir())):
        raise InputError(f"{p}: no run folder or {RECORDS} here")
    return list(_parsed(path, repair))


def read_record_columns(path: Path | str, strings: dict[str, str] | None = None) -> dict[str, list]:
    """The complete records as columns, NaN where a record lacks the key (as in a frame of
    read_records). For tables at Places2's scale (219,000 records a run): a list of dicts
    holds every value twice over and each run's identifiers (image ids, mask files and hashes)
    as strings of their own; pass one `strings` dict for several runs and each distinct string
    is kept once (a ten-run report's frame 1 GB -> ~0.35 GB)."""
    strings = {} if strings is None else strings
    cols: dict[str, list] = {}
    n = 0
    for record in _parsed(path):
        for k, v in record.items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [nan] * n
            col.append(strings.setdefault(v, v) if type(v) is str else v)
        n += 1
        for col in cols.values():
            if len(col) < n:
                col.append(nan)
    return cols


def _align_features(records_path: Path, features_path: Path) -> list[dict]:
    """After a kill: keep records whose feature row was written, and feature rows that have a record.
    Features are written and fsynced before their records, so at most a torn tail is lost."""
    recs = read_records(records_path, repair=True)
    if not features_path.exists():
        features_path.touch()
    rows = features_path.stat().st_size // _ROW_BYTES
    kept = [r for r in recs if r.get("feature_row", -1) < rows]
    if len(kept) != len(recs):
        _write_records(records_path, kept)
    used = max((r["feature_row"] for r in kept), default=-1) + 1
    with open(features_path, "r+b") as f:
        f.truncate(used * _ROW_BYTES)
    return kept


def set_metrics(out: Path, reference: np.ndarray, ids: list[str], log=print) -> dict:
    """FID and KID per bucket and over all buckets: composites against the same images' ground truth."""
    recs = read_records(out / RECORDS)
    # read where needed: a Places2 run's features are 1.8 GB (FID over them peaked at 16 GB; fid.Moments)
    feats = np.memmap(out / FEATURES, dtype=np.float32, mode="r").reshape(-1, FEATURE_DIM)
    index = {image_id: i for i, image_id in enumerate(ids)}
    result, ground_truth = {}, {}
    groups = {b.name: [r for r in recs if r["bucket"] == b.name] for b in BUCKETS}
    groups["all"] = recs
    for name, rs in groups.items():
        if len(rs) < 2:
            continue
        rows = [r["feature_row"] for r in rs]
        fake = feats if rows == list(range(len(feats))) else feats[rows]
        real_rows = sorted({index[r["image_id"]] for r in rs})
        real = reference[real_rows]
        if len(real) < 2:  # one ground-truth image has no covariance: FID/KID undefined, not zero
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if min(len(fake), len(real)) >= FEATURE_DIM:
                # each bucket's ground truth is the run's images (one mask each): their moments and
                # covariance root once for the run, not once per bucket
                key = tuple(real_rows)
                if key not in ground_truth:
                    ground_truth[key] = Moments(real)
                fid = fid_from_moments(Moments(fake), ground_truth[key])
            else:
                fid = fid_from_features(fake, real)
        kid, kid_std = kid_from_features(fake, real, subsets=PROTOCOL.kid_subsets, subset_size=PROTOCOL.kid_subset_size)
        result[name] = {"fid": fid, "kid": kid, "kid_std": kid_std, "n_outputs": len(rs), "n_reference": len(real),
                        "rank_deficient": bool(caught)}
    write_atomic(out / SET_METRICS, json.dumps(result, indent=2))
    small = [k for k, v in result.items() if v["rank_deficient"]]
    if small:
        log(f"warning: FID on fewer samples than the {FEATURE_DIM} feature dimensions in {', '.join(small)}: "
            f"biased upward, compare KID and mind N")
    return result


#: the scales a wrapped network's output comes in besides [0, 1]: name, the fix, [0, 1] -> that scale
OTHER_SCALES = (("0-255", "divide by 255", lambda x: x * 255), ("[-1, 1]", "return (x + 1) / 2", lambda x: x * 2 - 1))


def _other_scale(out: torch.Tensor, masked: torch.Tensor, hole: torch.Tensor) -> tuple[str, str] | None:
    """The scale, besides [0, 1], that a method's output is on, told by its known pixels, which fit
    their input's on it far better than as they are (a network's tanh [-1, 1], left unconverted in its
    adapter, lost its dark half to the clamp without a word: dark fills, scores blamed on the method).
    Overshoots of a [0, 1] output are the clamp's to take, whatever their size."""
    known = (hole < 0.5).expand_as(out)
    x, y = masked[known], out[known]
    if x.numel() == 0:
        return None
    as_is = float((y - x).abs().mean())
    for name, fix, scale in OTHER_SCALES:
        off = float((y - scale(x)).abs().mean()) / (scale(1.0) - scale(0.0))
        if off < 0.05 and off < as_is / 2:
            return name, fix
    return None


def _validate_output(out: torch.Tensor, like: torch.Tensor, method: str, hole: torch.Tensor,
                     stored: bool = False) -> torch.Tensor:
    if isinstance(out, (tuple, list)) and out and all(isinstance(x, torch.Tensor) for x in out):
        raise MethodError(f"method {method!r} returned a {type(out).__name__} of {len(out)} tensors, expected a "
                          f"torch.Tensor: a network's stages (coarse, fine)? return the final image alone")
    if not isinstance(out, torch.Tensor):
        raise MethodError(f"method {method!r} returned {type(out).__name__}, expected a torch.Tensor")
    if tuple(out.shape) != tuple(like.shape):
        raise MethodError(f"method {method!r} returned shape {tuple(out.shape)}, expected {tuple(like.shape)}")
    raw_dtype, out = out.dtype, out.detach().to(like.device, torch.float32)
    if not torch.isfinite(out).all():
        raise MethodError(f"method {method!r} returned NaN or inf values")
    lo, hi = (float(v) for v in torch.aminmax(out))
    # only an output outside [0, 1] by more than a clamp's rounding is looked at more closely
    if not -0.05 <= lo <= hi <= 1.05 and (scale := _other_scale(out, like, hole)):
        raise MethodError(f"method {method!r} returned values from {lo:.3g} to {hi:.3g}, "
                          f"its known pixels its input's on a {scale[0]} scale: methods return images in [0, 1] "
                          f"({scale[1]}); clamped, the rest would have been scored as black or white")
    if not raw_dtype.is_floating_point:
        # [0, 1] values cast to an integer type (.long(), .byte()) keep only their 0s and 1s
        raise MethodError(f"method {method!r} returned a tensor of {raw_dtype}, "
                          f"expected floating-point values in [0, 1]")
    # outputs read from files (wants_keys: `predictions`) are checked file by file, and warned of, by their method
    if not stored and (swapped := _bgr_order(out, like, hole)):
        raise MethodError(f"method {method!r} returned its images in BGR order (OpenCV's): with red and blue swapped "
                          f"its known pixels match its input's ({swapped[0]:.1f} grey levels off on average, against "
                          f"{swapped[1]:.1f} as returned); return them in RGB (`cv2.cvtColor(x, cv2.COLOR_BGR2RGB)` "
                          f"for an HxWx3 array, `x.flip(1)` for a (B,3,H,W) tensor)")
    return out


def _bgr_order(out: torch.Tensor, masked: torch.Tensor, hole: torch.Tensor) -> tuple[float, float] | None:
    """(mean grey levels off, swapped and as returned) over the known pixels where the output is
    in BGR order: they fit their input's with red and blue swapped, and not as they are. A method
    built on OpenCV had its fills scored in the wrong colours without a word. A network's raw
    output keeps its known pixels within a few grey levels; the demo's 32 images differ from their
    own BGR order by 8 to 79 on average (median 32); a grey image is the same either way, let be."""
    known = (hole < 0.5).expand_as(out)
    x = masked[known]
    if x.numel() == 0:
        return None
    as_is = float((out[known] - x).abs().mean()) * 255
    swapped = float((out.flip(1)[known] - x).abs().mean()) * 255
    return (swapped, as_is) if swapped < 5 < as_is and swapped < as_is / 4 else None


def _dark_fill(composite: torch.Tensor, hole: torch.Tensor) -> tuple[float, float] | None:
    """(mean grey level of the fills, of the known pixels) where a batch's fills are as black as
    the zeroed holes of its input and its known pixels are not dark: the mark of a method that
    took `hole` for the paper's M (1 = known), which was scored as a black fill without a word.
    Over the batch, so that one dark object in a bright image is let be."""
    h = hole.expand_as(composite)
    n_hole, n_known = float(h.sum()), float((1 - h).sum())
    if not n_hole or not n_known:
        return None
    fill = float((composite * h).sum()) / n_hole * 255
    known = float((composite * (1 - h)).sum()) / n_known * 255
    return (fill, known) if fill < 2 and known > 16 else None


class Memo:
    """Outputs of one method (and weights) by the content of its inputs, shared by runs that
    differ only in what is done with them (the demo's rwconv, +poisson, +hflip+poisson). A reused
    output is timed as when it was computed, so each run's seconds per image are its own."""

    def __init__(self):
        self.outputs: dict[str, tuple[torch.Tensor, float]] = {}
        self.reused_seconds = 0.0

    def output(self, inputs: tuple, compute) -> torch.Tensor:
        digest = hashlib.sha256()
        for x in inputs:
            digest.update(x.cpu().numpy().tobytes() if isinstance(x, torch.Tensor) else repr(x).encode())
        key = digest.hexdigest()
        if key in self.outputs:
            out, seconds = self.outputs[key]
            self.reused_seconds += seconds
            return out
        t0 = time.perf_counter()
        out = compute()
        self.outputs[key] = (out, time.perf_counter() - t0)
        return out


def finished_fill(method, masked: torch.Tensor, hole: torch.Tensor, keys: list[str] | None, name: str,
                  blend: str = "none", self_ensemble: str = "none", memo: Memo | None = None) -> torch.Tensor:
    """The method's output on the masked images, each call's output validated and clipped,
    self-ensembled and blended if asked (ensemble.py, blend.py); not quantised, not composited."""
    def call(m: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        def compute():
            # the method gets copies: one that prepares its input in place (`masked.mul_(2).sub_(1)`,
            # `hole.neg_().add_(1)` for the paper's M) would otherwise alter the pixels composited,
            # checked, mirrored and blended after it
            with torch.no_grad():
                mc, hc = m.clone(), h.clone()
                raw = method.inpaint(mc, hc, keys=keys) if method.wants_keys else method.inpaint(mc, hc)
            return _validate_output(raw, m, name, h, stored=method.wants_keys).clamp(0, 1)

        return memo.output((m, h, keys if method.wants_keys else None), compute) if memo else compute()

    return blend_fill(blend, ensemble_of(self_ensemble, call, masked, hole), masked, hole)


def complete(method, gt: torch.Tensor, hole: torch.Tensor, keys: list[str], name: str, blend: str = "none",
             self_ensemble: str = "none", memo: Memo | None = None) -> torch.Tensor:
    """The composite that is scored: the method sees the image with holes zeroed, its output is
    validated (self-ensembled and blended if asked: `finished_fill`), quantised to 8 bits (as a
    saved PNG would be), known pixels are kept."""
    masked = gt * (1 - hole)
    out_q = (finished_fill(method, masked, hole, keys, name, blend, self_ensemble, memo) * 255).round() / 255
    return masked + out_q * hole


def _save_png(path: Path, img: torch.Tensor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = (img.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    tmp = path.with_suffix(".tmp.png")
    Image.fromarray(arr).save(tmp)
    tmp.replace(path)


def first_images(ids: list[str], limit: int | None) -> list[str]:
    """The images a --limit keeps: the first N in the dataset's order (a negative N would slice
    from the end, and 0 read as no limit)."""
    if limit is not None:
        refuse_below(1, ("--limit", limit))
    return ids[:limit] if limit else ids


def plan(ids: list[str], buckets: list, maskset: MaskSet) -> list[tuple[int, str, object, object]]:
    """Every (image index, image id, bucket, mask entry) a run scores, image-major, so one
    decoded image serves all its buckets; image i gets mask i mod n of each bucket."""
    return [(i, image_id, b, maskset.pick(b, i)) for i, image_id in enumerate(ids) for b in buckets]


def check_device(device: str) -> None:
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    # torch.device also takes mps, xpu, meta...: code and tests here know only these two
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise InputError(f"--device must be cpu or cuda[:N], got {device!r}")
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if dev.type == "cuda" and (dev.index or 0) >= n:
        raise InputError(f"--device {device}: PyTorch sees {n} CUDA devices here; "
                         + ("use --device cpu" if n == 0 else f"use cuda:0 to cuda:{n - 1}"))


def _refuse_other_numbers(out: Path, old: dict, cfg: RunConfig, described: dict, maskset: MaskSet,
                          protocol: Protocol) -> None:
    """A run folder resumes only where its records and the new ones are the same numbers: the same
    options, protocol and mask set, and the same weights and metric networks by content. A --label
    given is a name, not a number: the folder takes it (`_rename_records`)."""
    mine, theirs = cfg.identity(), old["config_identity"]
    unlabelled = lambda identity: {k: v for k, v in identity.items() if k != "label"}
    if cfg.label:
        mine, theirs = unlabelled(mine), unlabelled(theirs)
    elif "label" in theirs and unlabelled(theirs) == mine:
        raise InputError(f"{out} holds the run labelled {theirs['label']!r}: give --label {theirs['label']} to resume it, "
                         f"or another --label to rename it")
    # named, with both values: "a different method, dataset, ..." left a user to diff manifest.json
    # by hand to find that one --data-root pointed one folder lower
    unset = {"blend": "none", "self_ensemble": "none"}  # identity() leaves these out when unset
    differ = [f"{k} {theirs.get(k, unset.get(k))!r} there, {mine.get(k, unset.get(k))!r} here"
              for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
    differ += [f"{what} {old[key]['id']} there, {now} here" for what, key, now in
               (("protocol", "protocol", protocol.id), ("mask set", "masks", maskset.id)) if old[key]["id"] != now]
    if differ:
        raise InputError(f"{out} holds a run with a different method, dataset, weights, protocol or mask set "
                         f"({'; '.join(differ)}); use another --out or delete it")
    # the same --weights path may hold another file by now (retrained, or the path is relative
    # and this is another directory): its records would be scored from other weights
    before, now = old["method"].get("weights_sha256"), described["method"].get("weights_sha256")
    if before != now:
        raise InputError(f"{out} holds a run scored with weights sha256 {str(before)[:12]}; the weights now at "
                         f"{cfg.weights or 'the default path'} have sha256 {str(now)[:12]}: use another --out for them")
    # likewise the metrics' networks (another --vgg-weights file, an upgraded package)
    if (was := network_ids(old)) != (then := network_ids(described)):
        changed = sorted(k for k in set(was) | set(then) if was.get(k) != then.get(k))
        raise InputError(f"{out} holds a run scored with other weights of the {', '.join(changed)} network; "
                         f"use another --out")


def _scored_any(records_path: Path) -> bool:
    """Whether the run folder's records hold a line (read up to the first, not the whole file)."""
    if not records_path.is_file():
        return False
    with open(records_path) as f:
        return any(line.strip() for line in f)


def _rename_records(records_path: Path, records: list[dict], name: str) -> None:
    """Two runs of one method (two weights files) share a table only under two names; a run made
    without --label, re-run with one, is renamed rather than scored again (Places2: hours)."""
    if any(r["method"] != name for r in records):
        _write_records(records_path, [{**r, "method": name} for r in records])


def _write_records(records_path: Path, records: list[dict]) -> None:
    """Replace the file whole (a kill leaves the old one), as appending cannot rewrite what it holds."""
    write_atomic(records_path, "".join(json.dumps(r) + "\n" for r in records))


class FolderHoldsMore(InputError):
    """A run folder holds pairs this call would not score (a larger --limit, other --buckets): `images`,
    how many images it has, so a command without --buckets (the demo) can say what it takes instead."""

    def __init__(self, message: str, out: Path, images: int):
        super().__init__(message)
        self.out, self.images = out, images


def _refuse_fewer_pairs(out: Path, existing: list[dict], outside: set, before: dict, dataset_info: dict) -> None:
    """`outside`: scored pairs this run would not score; the manifest would describe fewer pairs
    than the records hold. `before`: the dataset as the folder's manifest described it ({} without one)."""
    if not outside:
        return
    if other_images(before, dataset_info):  # describe() hashes the whole list only: that one decides
        # a file removed or added before the scored ones moves their masks (an unscored one at
        # the end, e.g. a broken file the run stopped at, moves none and resumes)
        raise InputError(f"{out} holds {counted(len(outside), 'scored pair')} of a list of images that has changed since "
                         f"({before['images']} images then, {dataset_info['images']} now): each image's masks "
                         f"follow from its place in the sorted list; restore the files as they were, or use "
                         f"another --out")
    held = sorted({r["bucket"] for r in existing}, key=BUCKET_NAMES.index)
    images = len({r["image_id"] for r in existing})
    raise FolderHoldsMore(f"{out} already holds {counted(len(outside), 'scored pair')} this run would not score (it has "
                          f"{counted(images, 'image')} in {'bucket' if len(held) == 1 else 'buckets'} {', '.join(held)}); "
                          f"a run folder only grows: give a --limit and --buckets that cover them, or another --out",
                          out, images)


def run(cfg: RunConfig, out: Path | str | None = None, progress=None, log=print, memo: Memo | None = None) -> Path:
    """`out`: the run's folder (None: `cfg.default_out()`, as the command's). `memo`: outputs shared
    with other runs of the same method and weights (see `Memo`)."""
    out = Path(out) if out is not None else cfg.default_out()
    protocol = protocol_for(cfg.size)
    dataset = get_dataset(cfg.dataset, Path(cfg.data_root) if cfg.data_root else None, protocol.eval_size, cfg.resize)
    dataset.refuse_inside(out, "the images a run writes there (--save-images)")
    if not (out / MANIFEST).is_file() and (held := runs_in(out)):
        # its manifest.json makes the folder one run: `report FOLDER`, which had tabled its runs, tabled this one alone
        shown = ", ".join(d.name for d in held[:4]) + (", ..." if len(held) > 4 else "")
        free = next(out / n for i in itertools.count(1) if not (out / (n := safe_name(cfg.name) + f"-{i}" * (i > 1))).exists())
        raise InputError(f"--out {out}: a folder of runs ({shown}), which this run's files would make one run (the "
                         f"others then unseen by `inpaintbench report {out}`): give it a folder of its own, e.g. "
                         f"--out {free}")
    maskset = MaskSet(Path(cfg.masks))
    buckets = get_buckets(cfg.buckets)
    maskset.check_size(protocol.eval_size, buckets)
    ids = first_images(dataset.ids(), cfg.limit)
    refuse_below(1, ("--batch-size", cfg.batch_size), ("--workers", cfg.workers))
    check_device(cfg.device)
    if cfg.label and (not cfg.label.strip() or not cfg.label.isprintable()):
        # it heads a table's column: a line break split the Markdown table's header in two
        raise InputError(f"--label {cfg.label!r}: a run's name is one line of printable text")
    if cfg.blend not in BLENDS:
        raise InputError(f"--blend must be one of {', '.join(BLENDS)}, got {cfg.blend!r}")
    if cfg.self_ensemble not in ENSEMBLES:
        raise InputError(f"--self-ensemble must be one of {', '.join(ENSEMBLES)}, got {cfg.self_ensemble!r}")
    if own := [k for k in ("device", "weights") if k in cfg.method_options]:
        # RunConfig's own fields, which the manifest records (and a resume compares) apart
        raise InputError(f"method_options {own}: give {' and '.join(own)} as the run's own setting{'s' * (len(own) > 1)} "
                         f"(RunConfig.{own[0]}, `run --{own[0]}`), not as a method option")
    method = registry.create(cfg.method, eval_size=protocol.eval_size, device=cfg.device, weights=cfg.weights,
                             **cfg.method_options)
    method.workers = cfg.workers
    if problem := method.size_problem(protocol.eval_size, protocol.eval_size):
        raise InputError(f"{problem}: --size {protocol.eval_size} is not one it can take")
    if cfg.self_ensemble != "none" and method.wants_keys:
        raise InputError(f"--self-ensemble runs the method again on flipped inputs; {cfg.method} returns stored "
                         f"outputs for each pair, so it cannot be self-ensembled")
    suite = MetricSuite(cfg.device, cfg.fid_network, vgg_weights=cfg.vgg_weights) if cfg.deep_metrics else None
    # what makes this run's numbers: checked against a run being resumed, then written in its manifest
    described = {"method": method.describe(), "metrics": suite.describe() if suite else {"deep_metrics": "off"}}

    manifest_path = out / MANIFEST
    old = read_json(manifest_path, MANIFEST_HINT) if manifest_path.is_file() else None
    if old and not _scored_any(out / RECORDS):
        # a run stopped before its first pair was scored (the method refused the inputs) has no
        # numbers to mix with: its folder, by default runs/DATASET/NAME, takes the corrected options
        log(f"note: {out} holds a run that scored no pair; it starts again with these options")
        old = None
    if old:
        _refuse_other_numbers(out, old, cfg, described, maskset, protocol)
    dataset_info = dataset.describe()
    pairs = plan(ids, buckets, maskset)
    named = [(image_id, e.file) for _, image_id, _, e in pairs]
    # keys name files (a method's stored outputs, --save-images); a plain run does not need them unique
    keys = pair_keys(named) if method.wants_keys or cfg.save_images else [pair_key(*p) for p in named]
    unavailable = set(method.prepare(keys))
    for note in method.notes():
        log(f"note: {note}")
    if unavailable:
        log(f"warning: PARTIAL RUN, {len(unavailable)} of {len(pairs)} pairs have no output from {cfg.method} and are "
            f"not scored (listed in manifest.json under skipped_pairs); bucket tables show N")
    # only now, after every refusal above, so a refused run leaves no empty folder behind
    out.mkdir(parents=True, exist_ok=True)
    with exclusive(out, "inpaintbench run"):
        records_path, features_path = out / RECORDS, out / FEATURES
        existing = _align_features(records_path, features_path) if suite else read_records(records_path, repair=True)
        done = {(r["image_id"], r["mask_file"]) for r in existing}
        # each image's pixels as scored before: a file edited or replaced under its name between two
        # sessions of a run had its new pixels scored beside the old ones (and FID's reference from them)
        scored_pixels = {r["image_id"]: r["gt_sha256"] for r in existing if "gt_sha256" in r}
        _refuse_fewer_pairs(out, existing, done - set(named), old["dataset"] if old else {}, dataset_info)
        if old and run_name(old) != cfg.name:
            _rename_records(records_path, existing, cfg.name)
            log(f"{out}: the run named {run_name(old)} is named {cfg.name} from now on ({counted(len(existing), 'scored pair')} kept)")
        # only their number from here: a resumed Places2 run held its 219,000 records (0.64 GB) for hours
        next_row, existing = len(existing), None
        session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "records_at_start": next_row, "versions": _versions(),
                   "git_commit": git_commit(), "hardware": _hardware(cfg.device)}
        manifest = {
            "tool": "inpaintbench", "config": {**cfg.__dict__, "masks": repo_path(cfg.masks)}, "config_identity": cfg.identity(),
            "protocol": protocol.as_dict(), "dataset": {**dataset_info, "evaluated_images": len(ids), "evaluated_ids_sha256": ids_sha256(ids)},
            "masks": {"id": maskset.id, "root": repo_path(maskset.root), "manifest_sha256": maskset.manifest_sha256},
            **described,
            **{k: session[k] for k in ("versions", "git_commit", "hardware")},
            "pairing": "image i gets mask i mod n of each bucket, masks ordered by sha256(file)", "started": session["started"],
            # each session's code, libraries and machine, the last one's also above: a resume rewrites
            # the manifest, and a run's records can come from several (the Pillow that decoded them)
            "sessions": _earlier_sessions(old) + [session],
            **({"skipped_pairs": sorted(unavailable)} if unavailable else {}),
        }
        write_atomic(manifest_path, json.dumps(manifest, indent=2, default=str))

        todo = [(i, image_id, b, e) for i, image_id, b, e in pairs
                if (image_id, e.file) not in done and pair_key(image_id, e.file) not in unavailable]

        last: tuple[str | None, torch.Tensor | None] = (None, None)
        seen: dict[str, str] = {}  # image id -> its pixels' sha256: each record's, and the ground truth's features'

        def ground_truth(image_id: str) -> np.ndarray:
            pixels = np.array(dataset.load(image_id))
            seen[image_id] = sha = pixel_sha256(pixels)
            before = scored_pixels.get(image_id)
            if before is not None and before != sha:
                raise InputError(f"{out}: image {image_id!r} of {cfg.dataset} has other pixels than when this run "
                                 f"scored it (sha256 {before[:12]} then, {sha[:12]} now): the file was edited or "
                                 f"replaced since, or another Pillow decodes it; restore either, or use another --out")
            return pixels

        def sha_of(image_id: str) -> str:
            if image_id not in seen:  # scored in an earlier session: loaded (and checked) for its features
                ground_truth(image_id)
            return seen[image_id]

        def inputs(chunk) -> tuple[torch.Tensor, torch.Tensor]:
            """The ground truth and holes of a batch of pairs, which come image by image."""
            nonlocal last
            images, holes = [], []
            for i, image_id, b, entry in chunk:
                if last[0] != image_id:
                    last = (image_id, torch.from_numpy(ground_truth(image_id)).permute(2, 0, 1))
                images.append(last[1])
                holes.append(torch.from_numpy(maskset.load(entry, protocol.eval_size))[None])
            device = torch.device(cfg.device)
            return torch.stack(images).to(device, torch.float32) / 255, torch.stack(holes).to(device, torch.float32)

        def fill(chunk, gt: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
            return complete(method, gt, hole, [pair_key(c[1], c[3].file) for c in chunk], cfg.method, cfg.blend,
                            cfg.self_ensemble, memo)

        def image_path(image_id: str, entry) -> Path:
            return out / "images" / (pair_key(image_id, entry.file) + ".png")

        # the same command with --save-images added saved nothing of a finished run: the pairs scored
        # before are filled again for their images (the run's weights or files, checked above), not scored
        unsaved = [p for p in pairs if (p[1], p[3].file) in done and not image_path(p[1], p[3]).is_file()] \
            if cfg.save_images else []
        scored_before = len(pairs) - len(unavailable) - len(todo)
        if progress:  # the images of pairs scored before count on the bar as the pairs to score do
            progress.start(total=len(pairs) - len(unavailable) + len(unsaved), completed=scored_before)
        log(f"{cfg.name} on {cfg.dataset}: {counted(len(ids), 'image')} x {counted(len(buckets), 'bucket')}, "
            f"{len(todo)} to do" + (f", and the images of {counted(len(unsaved), 'pair')} scored before without "
                                    f"--save-images" if unsaved else "")
            + (f" (--limit {cfg.limit} is more than the dataset has: every image)" if cfg.limit and cfg.limit > len(ids) else ""))
        def out_of_memory(doing: str, kept: str) -> InputError:
            # a shared GPU, or a method larger than the machine: a traceback said nothing of what to
            # change; the batch size is not part of a run's identity, so it resumes
            return InputError(f"out of memory on {cfg.device} at --batch-size {cfg.batch_size} ({doing}); a smaller "
                              f"--batch-size needs less, and the same command with it resumes {kept}")

        for start in range(0, len(unsaved), cfg.batch_size):
            chunk = unsaved[start : start + cfg.batch_size]
            gt, hole = inputs(chunk)
            try:
                composite = fill(chunk, gt, hole)
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                raise out_of_memory(f"{cfg.name}, filling the pairs scored before for their images",
                                    f"with the {counted(start, 'image')} saved so far kept") from None
            for (i, image_id, b, entry), img in zip(chunk, composite):
                _save_png(image_path(image_id, entry), img)
            if progress:
                progress.advance(len(chunk))
        told_dark = False
        # a run without deep metrics has no features: no empty file to suggest it has
        with open(records_path, "a") as f, (open(features_path, "ab") if suite else contextlib.nullcontext()) as ff:
            for start in range(0, len(todo), cfg.batch_size):
                chunk = todo[start : start + cfg.batch_size]
                gt, hole = inputs(chunk)
                t0, reused = time.perf_counter(), memo.reused_seconds if memo else 0.0
                try:
                    composite = fill(chunk, gt, hole)
                    if not told_dark and not method.wants_keys and (dark := _dark_fill(composite, hole)):
                        told_dark = True
                        log(f"warning: {cfg.name} left the holes black (its fills average {dark[0]:.1f} grey levels, "
                            f"the known pixels {dark[1]:.0f}), as they are in its input: `hole` is 1 where pixels "
                            f"are missing, the opposite of the paper's M, and a method that reads it as M fills the "
                            f"known pixels instead; scored as they are")
                    reused = (memo.reused_seconds if memo else 0.0) - reused
                    seconds = (time.perf_counter() - t0 + reused) / len(chunk)
                    if suite:
                        scores, feats = suite.score(composite, gt, hole, [c[1] for c in chunk])
                    else:
                        scores, feats = pixel_metrics(composite, gt, hole), None
                except Exception as e:
                    if not is_out_of_memory(e):
                        raise
                    raise out_of_memory(f"{cfg.name} and its metrics", f"after the {scored_before + start} pairs scored") from None
                lines = []
                for k, (i, image_id, b, entry) in enumerate(chunk):
                    rec = {"image_id": image_id, "image_index": i, "mask_file": entry.file, "mask_sha256": entry.sha256,
                           "hole_ratio": entry.ratio, "bucket": b.name, "method": cfg.name, "seconds": seconds,
                           "gt_sha256": seen[image_id]}
                    rec.update({name: float(v[k]) for name, v in scores.items()})
                    if method.wants_keys and (source := method.source_sha256(pair_key(image_id, entry.file))):
                        rec["output_sha256"] = source
                    if feats is not None:
                        rec["feature_row"] = next_row + k
                    lines.append(json.dumps(rec) + "\n")
                    if cfg.save_images:
                        _save_png(image_path(image_id, entry), composite[k])
                if feats is not None:
                    ff.write(feats.tobytes())
                    ff.flush()
                    os.fsync(ff.fileno())
                    next_row += len(chunk)
                f.write("".join(lines))
                f.flush()
                os.fsync(f.fileno())
                if progress:
                    progress.advance(len(chunk))
        if suite:
            # the ground truth's features are cached by its pixels' hashes, taken as the images were
            # loaded for scoring; only those a resumed run scored before are decoded again (all of
            # them again took minutes at the end of each run over Places2's full-size images)
            reference = suite.reference_features([(sha_of(i),
                                                    lambda i=i: dataset.load(i)) for i in ids], log=log)
            set_metrics(out, reference, ids, log=log)
    return out
