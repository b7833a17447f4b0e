"""`inpaintbench check`: a run's per-bucket metrics against a committed baseline, for CI.

A metric regresses when it moves in its bad direction by more than its tolerance (absolute,
per metric); improvements never fail. The baseline carries the protocol, dataset and mask-set
ids of the run it came from, and a run made under anything else is refused rather than compared.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

from .data.base import other_images
from .errors import InputError, counted, merge_conflicted, read_json, refuse_repeats
from .lock import write_atomic
from .metrics import METRIC_INFO, known_metrics
from .metrics.suite import network_ids
from .protocol import PROTOCOL
from .report import load_runs, set_frame, unfinished
from .runner import run_name

DEFAULT_TOLERANCE = {"psnr": 0.05, "ssim": 0.002, "l1": 2e-4, "l2": 1e-4, "psnr_hole": 0.05, "ssim_hole": 0.005,
                     "l1_hole": 1e-3, "l2_hole": 5e-4, "fid": 1.0, "kid": 2e-3, "perceptual_inception": 0.01,
                     "perceptual_vgg16": 0.01, "lpips_alex": 0.005, "lpips_vgg": 0.005}


def summarize(run_dir: Path, finished: bool = False) -> dict:
    """`finished`: refuse a run stopped before its last pair (a baseline must be a whole run)."""
    df, (manifest,) = load_runs([run_dir])
    if finished and (stopped := unfinished([manifest], df)):
        raise InputError(f"{stopped[0]}; a baseline made from it would fail every whole run on its pair counts")
    per_bucket = df.groupby("bucket")[[m for m in METRIC_INFO if m in df.columns]].mean()
    metrics = {b: {k: float(v) for k, v in row.items()} for b, row in per_bucket.iterrows()}
    sets = set_frame(df)
    for r in sets.itertuples() if len(sets) else []:
        if r.bucket in metrics:
            metrics[r.bucket].update({"fid": r.fid, "kid": r.kid})
    return {"protocol": manifest["protocol"]["id"], "eval_size": manifest["protocol"]["eval_size"], "dataset": manifest["dataset"]["name"],
            "evaluated_images": manifest["dataset"]["evaluated_images"], "masks": manifest["masks"]["id"],
            **({"resize": manifest["dataset"]["resize"]} if "resize" in manifest["dataset"] else {}),
            **({"pixels_sha256": pixels} if (pixels := _pixels_sha256(df)) else {}),
            **{k: manifest["dataset"][k] for k in ("ids_sha256", "evaluated_ids_sha256") if k in manifest["dataset"]},
            "method": run_name(manifest), "metrics": metrics,
            "networks": {name: list(w) for name, w in network_ids(manifest).items()},
            "pairs": {b: int(n) for b, n in df.groupby("bucket").size().items()}}


def _pixels_sha256(df) -> str | None:
    """One hash of every scored image's pixels (each record's gt_sha256); None for runs made before
    records carried it."""
    if "gt_sha256" not in df or df["gt_sha256"].isna().any():
        return None
    pairs = sorted(set(zip(df["image_id"], df["gt_sha256"])))
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def compare(current: dict, baseline: dict, tolerance: dict[str, float]) -> list[dict]:
    # baselines written before they recorded the size: the default protocol's id says 256
    base_size = baseline.get("eval_size") or (PROTOCOL.eval_size if baseline.get("protocol") == PROTOCOL.id else None)
    if base_size and base_size != current["eval_size"]:
        raise InputError(f"baseline was scored at {base_size}x{base_size}, this run at {current['eval_size']}x"
                         f"{current['eval_size']} (`run --size`); refusing to compare (use --update to make a new "
                         f"baseline deliberately)")
    # every difference at once: a run of another method over fewer images named only the count, and
    # the fix each asks for differs (--update over another method's baseline would replace it)
    differ = [key for key in ("method", "dataset", "protocol", "evaluated_images", "masks") if current[key] != baseline.get(key)]
    # other crops of the same files are other ground truth (baselines made before this was recorded: not known)
    differ += ["resize"] * ("resize" in baseline and current.get("resize") != baseline["resize"])
    if differ:
        hint = ("a baseline gates one method on one dataset: give this run its own with --baseline FILE --update"
                if {"method", "dataset"} & set(differ) else "use --update to make a new baseline deliberately")
        raise InputError("baseline was made with " + ", ".join(f"{k} {baseline.get(k)!r}" for k in differ)
                         + "; this run has " + ", ".join(f"{k} {current[k]!r}" for k in differ)
                         + f"; refusing to compare ({hint})")
    # a folder with files added or removed: the same count of images may be other images
    if other_images(current, baseline):
        raise InputError("the baseline was made over another list of the dataset's images (files added or removed "
                         "since); refusing to compare (use --update to make a new baseline deliberately)")
    # the same files edited since (or another copy of them): the numbers moved for the images
    if "pixels_sha256" in baseline and current.get("pixels_sha256", baseline["pixels_sha256"]) != baseline["pixels_sha256"]:
        raise InputError("the baseline was made over other pixels of the same images (files edited or replaced since, "
                         "another copy of the dataset, or another Pillow decoding them); refusing to compare (use "
                         "--update to make a new baseline deliberately)")
    # the protocol names the default networks only: --fid-network or other VGG16 weights make other numbers
    for name, weights in baseline.get("networks", {}).items():
        now = current.get("networks", {}).get(name)
        if now is not None and list(now) != list(weights):
            raise InputError(f"the baseline's {name} numbers come from network weights sha256 {weights[0][:12]}, this "
                             f"run's from {now[0][:12]}; refusing to compare (use --update to make a new baseline deliberately)")
    rows = []
    for bucket, base in baseline["metrics"].items():
        now = current["metrics"].get(bucket)
        if now is None:
            rows.append({"bucket": bucket, "metric": "*", "baseline": None, "current": None, "regressed": True,
                         "why": "bucket missing from the run"})
            continue
        # the same images but fewer pairs (a run stopped before its end) are means over other pairs
        scored, expected = current.get("pairs", {}).get(bucket), baseline.get("pairs", {}).get(bucket)
        if expected is not None and scored != expected:
            rows.append({"bucket": bucket, "metric": "pairs", "baseline": expected, "current": scored, "regressed": True,
                         "why": f"{counted(scored, 'pair')} scored, the baseline has {expected}"})
        for metric, b in base.items():
            if metric not in now:
                rows.append({"bucket": bucket, "metric": metric, "baseline": b, "current": None, "regressed": True,
                             "why": "metric missing from the run"})
                continue
            higher = METRIC_INFO[metric][0]
            tol = tolerance.get(metric, DEFAULT_TOLERANCE.get(metric, 0.0))
            delta = now[metric] - b
            worse = -delta if higher else delta
            # NaN compares False with everything: a metric that stopped being computable must fail
            broken = math.isnan(now[metric]) and not math.isnan(b)
            rows.append({"bucket": bucket, "metric": metric, "baseline": b, "current": now[metric], "delta": delta,
                         "tolerance": tol, "regressed": broken or worse > tol, **({"why": "now NaN"} if broken else {})})
    return rows


def subject(baseline: dict) -> str:
    return f"{baseline['method']} on {baseline['dataset']}"


def tolerances(spec: dict[str, float] | list[str] | str | None) -> dict[str, float]:
    """Per-metric tolerances from `--tolerance METRIC=NUMBER` strings (one, or a list) or a dict, each
    checked: a misspelt metric would gate nothing without a word; NaN compares false with everything,
    so its metric could never regress (a gate turned off by a typo); below 0 an unchanged value fails.
    inf turns a metric's gate off, as asked. From Python a str had ended in an AttributeError, and a
    dict went unchecked."""
    if isinstance(spec, str):
        spec = [spec]
    # (metric, value, as the user wrote it)
    items = ([(name, value, f"{name}={value}") for name, value in spec.items()] if isinstance(spec, dict)
             else [(*t.split("=", 1), t) if "=" in t else (t, "", t) for t in spec or []])
    out = {}
    for name, value, written in items:
        if not value and written == name:  # no '=': "psnr:0.1" or "psnr 0.1" read as a metric's name
            two = re.split(r"[:\s]+", written.strip())
            hint = f" (--tolerance {two[0].lower()}={two[1]}?)" if len(two) == 2 and two[0].lower() in METRIC_INFO else ""
            raise InputError(f"--tolerance expects METRIC=NUMBER, got {written!r}{hint}")
        known_metrics([name], "--tolerance")
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            several = [t for t in re.split(r"[,;\s]+", written) if t]  # "psnr=0.1,ssim=0.01", as other tools take them
            hint = (f" (one per --tolerance: {' '.join('--tolerance ' + t for t in several)})"
                    if len(several) > 1 and all("=" in t for t in several) else "")
            raise InputError(f"--tolerance expects METRIC=NUMBER, got {written!r}{hint}") from None
        if not out[name] >= 0:
            raise InputError(f"--tolerance {written!r}: a tolerance is a number at least 0 (inf turns the metric's gate off)")
    refuse_repeats("--tolerance", [name for name, _, _ in items])
    return out


def check(run_dir: Path | str, baseline_path: Path | str, tolerance: dict[str, float] | list[str] | str | None = None,
          update: bool = False, log=print) -> list[dict]:
    """A row per (bucket, metric) of the baseline, `regressed` set where the run is worse by more than
    its tolerance; `update` writes the run's summary as the baseline instead, over a baseline or
    one left with merge-conflict markers only (a mistyped --baseline naming a run's manifest.json
    was overwritten), saying whose it replaced where that was another method's or dataset's."""
    baseline_path = Path(baseline_path)  # a str from a script
    tolerance = tolerances(tolerance)  # before anything is read or written
    current = summarize(run_dir, finished=update)
    if update:
        before = None
        if baseline_path.exists() and not merge_conflicted(baseline_path.read_text(errors="replace")):
            before = read_baseline(baseline_path, "--update writes over a baseline only: remove the file or give "
                                                  "another --baseline")
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(baseline_path, json.dumps(current, indent=2, sort_keys=True) + "\n")  # a full disk had emptied it
        replaced = before is not None and subject(before) != subject(current)
        log(f"baseline written to {baseline_path}: {subject(current)}"
            + (f" (replacing the baseline of {subject(before)})" if replaced else ""))
        if tolerance:  # a baseline holds numbers only; CI's check command is where tolerances live
            log("note: --tolerance is not stored in the baseline; give it to each check")
        return []
    baseline = read_baseline(baseline_path)
    gated = {m for metrics in baseline["metrics"].values() for m in metrics}
    if idle := [m for m in tolerance if m not in gated]:
        # one CI line over runs with and without deep metrics is fine, but a typo-free name that
        # gates nothing had passed without a word
        log(f"note: --tolerance {', '.join(idle)}: the baseline's run did not score {'it' if len(idle) == 1 else 'them'} "
            f"(deep metrics off, or their network absent), so {'it gates' if len(idle) == 1 else 'they gate'} nothing")
    return compare(current, baseline, tolerance)


def read_baseline(path: Path, hint: str = "a baseline is the file `inpaintbench check RUN --update` writes") -> dict:
    """The baseline `--update` wrote, or one line saying what the file is instead: a committed
    baseline left with merge-conflict markers, or another JSON given as --baseline (a run's
    manifest.json), had ended in a JSONDecodeError traceback or a refusal naming every key None."""
    if not path.is_file():
        # the default, reports/baseline.json, is the checkout's: from another folder it named a file
        # that is not there, and --update would have made one there
        where = f" (in {Path.cwd()})" if not path.is_absolute() else ""
        raise InputError(f"{path}{where}: no baseline; give --baseline FILE, or make one with --update")
    baseline = read_json(path, hint)
    shape = {"method": str, "dataset": str, "metrics": dict}
    if not isinstance(baseline, dict) or any(not isinstance(baseline.get(k), kind) for k, kind in shape.items()):
        manifest = isinstance(baseline, dict) and isinstance(baseline.get("protocol"), dict)
        raise InputError(f"{path}: " + ("a run's manifest, not a baseline" if manifest else
                                         "not a baseline (no method and dataset by name with metrics per bucket)")
                         + f"; {hint}")
    return baseline
