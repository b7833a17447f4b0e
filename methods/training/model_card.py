"""Writes <method>/weights/MODEL_CARD.md from a training run's logs and the exported weights,
so a card's numbers are the run's numbers:

    python -m methods.training.model_card METHOD TRAIN_DIR [--weights PATH] [--card PATH] [--hardware TEXT]

Everything below the line `<!-- notes -->` in an existing card (evidence, verdicts written by
hand after evaluation) is kept when the card is regenerated.
"""
from __future__ import annotations

import argparse
import csv
import math
from dataclasses import asdict
from pathlib import Path

import torch

from inpaintbench.errors import InputError, one_line_errors
from inpaintbench.networks import sha256_of
from inpaintbench.paths import repo_path
from inpaintbench.registry import method_class
from methods.training.photos import PHOTO_SETS, photo_name, photo_words
from methods.training.trainer import autocast_enabled, same_setting

MARKER = "<!-- notes -->"
HARDWARE = "2-core x86-64 CPU, no GPU, shared with development work and other training jobs"


def photo_sources(files: list[str]) -> str:
    """'18 photographs from Debian `a` and `b`: names. ...', the packages in PHOTO_SETS order."""
    sets = [k for k, v in PHOTO_SETS.items() if any(f in v for f in files)]
    other = [f for f in files if not any(f in v for v in PHOTO_SETS.values())]
    named = ", ".join(f"`{k}`" for k in sets[:-1]) + (" and " if len(sets) > 1 else "") + (f"`{sets[-1]}`" if sets else "")
    names = ", ".join(photo_name(d) for d in files)
    if not other:
        return f"{len(files)} photographs from Debian {named}: {names}. None is in the demo evaluation set."
    return f"{len(files)} images" + (f" ({len(files) - len(other)} from Debian {named})" if sets else "") + f": {names}."


def card_path(method: str, weights: Path) -> Path:
    """MODEL_CARD.md beside a method's own weights; STEM.MODEL_CARD.md beside other files
    (ablations, checkpoints), so several can share a folder."""
    return weights.with_name("MODEL_CARD.md" if weights.stem == method else f"{weights.stem}.MODEL_CARD.md")


def wall_hours(log: list[dict]) -> tuple[float, int, bool]:
    """Wall time of a run from its train_log rows, how many pieces it ran in, and whether a piece
    redid steps (a killed piece restarts at its last checkpoint; one stopped by its time limit
    checkpoints where it stops): each resume restarts wall_s at zero and appends, so the total is
    the sum of each piece's last wall_s."""
    total, pieces, prev, prev_step, redone = 0.0, 0, None, None, False
    for r in log:
        w, step = float(r["wall_s"]), int(r["step"])
        if prev is None or w < prev:
            pieces += 1
            total += prev or 0.0
            redone |= prev_step is not None and step <= prev_step
        prev, prev_step = w, step
    return (total + (prev or 0.0)) / 3600, pieces, redone


def continued_from(init: dict) -> str:
    """The weights a run started from, by content: their path may hold another file by now."""
    best = init.get("best_val") or {}
    return (f"`{init['path']}` as it was then (sha256 `{init['sha256'][:16]}...`), trained {init['step']:,} steps"
            + (f", validation PSNR {best['psnr']:.3f}" if math.isfinite(best.get("psnr", math.nan)) else "")
            + (f", {init['adapted']['how']}" if init.get("adapted") else "")
            + "; step numbers count on from there, the wall time and curve below are this run's alone")


def init_step(blob: dict) -> int:
    """The step of the weights a run continued from (0 for a run from scratch)."""
    return (blob.get("init_from") or {}).get("step", 0)


def schedule(cfg: dict, blob: dict) -> str:
    name = cfg.get("lr_schedule", "constant")
    if name == "constant":
        return ""
    start = init_step(blob) if name == "cosine-restart" else 0
    return f" ({name} schedule" + (f" from step {start:,}" if start else "") + f" to step {cfg['steps']})"


def steps_run(log: list[dict], blob: dict) -> str:
    last = int(log[-1]["step"]) if log else int(blob["step"])
    start = init_step(blob)
    return f"steps {start + 1:,}-{last:,}" if start else f"{last} steps"


def arithmetic(cfg: dict) -> str:
    """What --precision meant for the run; configs from before that setting carry `amp` and meant "auto"."""
    precision = cfg.get("precision", "auto" if cfg.get("amp", True) else "fp32")
    bf16 = autocast_enabled(precision, torch.device(cfg.get("device", "cpu")))
    return "bf16 autocast (weights, optimiser state and validation fp32)" if bf16 else "fp32"


def _flag(name: str, v) -> str:
    flag = f"--{name.replace('_', '-')}"
    if isinstance(v, bool):
        return flag if v else f"--no-{flag[2:]}"
    return f"{flag} {' '.join(map(str, v))}" if isinstance(v, (list, tuple)) else f"{flag} {v}"


def _flags(recipe, cfg: dict) -> str:
    """The command-line flags that set `cfg` where it differs from the recipe's defaults."""
    # the origin is a row of its own; threads and a time limit change nothing computed
    skip = {"out", "init_from", "threads", "time_limit_min"}
    defaults = asdict(recipe.Config())
    return " ".join(_flag(k, photo_words(cfg.get(k, default)) if k in ("data", "val_data") else cfg.get(k, default))
                    for k, default in defaults.items()
                    if k not in skip and not same_setting(cfg.get(k, default), default))


def _csv_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def refuse_other_run(train_dir: Path, rows: list[dict], step: int, weights: Path) -> None:
    """The card's rows and curve come from TRAIN_DIR: a folder mistyped, or another run's, had
    written over the shipped card an empty curve, 0.00 h and this machine as the hardware.
    `rows`: its training log's and validation curve's."""
    if not any((train_dir / f).is_file() for f in ("train_log.csv", "val.csv", "last.pt")):
        raise InputError(f"{train_dir}: not a training run's folder (its --out: train_log.csv, val.csv, last.pt)")
    steps = [int(r["step"]) for r in rows]
    # a log row every 10 steps; the weights' step may follow the last by a few (a time limit, a kill)
    if steps and not min(steps) - 10 <= step <= max(steps) + 10:
        raise InputError(f"{train_dir}: its logs run from step {min(steps):,} to {max(steps):,}, and {repo_path(weights)} "
                         f"is of step {step:,}: the folder of the run that made them, please")


def card(method: str, train_dir: Path, weights: Path, hardware: str = HARDWARE) -> str:
    recipe = method_class(method).recipe
    blob = torch.load(weights, map_location="cpu", weights_only=False)
    cfg, mc = blob["config"], blob["model_config"]
    n_params = sum(v.numel() for k, v in blob["state_dict"].items() if not k.endswith(("weight_u", "weight_v")))
    val, log = _csv_rows(train_dir / "val.csv"), _csv_rows(train_dir / "train_log.csv")
    refuse_other_run(train_dir, log + val, blob["step"], weights)
    wall_h, pieces, redone = wall_hours(log)
    loss_net = blob.get("loss_network") or {}
    rows = {
        "architecture": f"`{mc}`, {n_params:,} parameters",
        **({"made from": blob["source"]} if blob.get("source") else {}),
        **({"continued from": continued_from(blob["init_from"])} if blob.get("init_from") else {}),
        **recipe.card_rows(blob),
        "training step of these weights": f"{blob['step']} " + ("(best validation PSNR of the run; see the curve)"
                                                                if (blob.get("best_val") or {}).get("step") == blob["step"] else
                                                                "(the run's last checkpoint, not chosen by validation; see the curve)"),
        "batch x crop": f"{cfg['batch_size']} x {cfg['crop']}x{cfg['crop']} random-scale crops with flips, from photos downscaled to 640 px short side",
        "holes": f"the inpaintbench generator at 256-px stroke scale, cropped to the training crop; buckets up to {cfg['max_hole_pct']}%, 10% of strokes replaced by boxes",
        "optimiser": f"Adam lr {cfg['lr']}" + schedule(cfg, blob) + f" betas {tuple(cfg['betas'])}" + (f", critics at {recipe.critic_lr_ratio}x" if recipe.critic_lr_ratio != 1 else "")
                     + "".join(f"; before step {c['step']:,}: " + ", ".join(f"{k} {b}" for k, (b, a) in c["changed"].items()) for c in blob.get("setting_changes", [])),
        "loss network": (f"{loss_net['name']} (sha256 {loss_net['weights_sha256'][:16]}...); VGG16 weights are not available "
                         f"offline here, EfficientNet-Lite0 taps at strides 2/4/8 stand in for VGG pool1-3 (methods/training/loss_network.py). "
                         f"Not the FID Inception.") if loss_net else "none (no feature losses)",
        "calibration": f"{blob.get('calibration')}" if blob.get("calibration") else "none",
        "training data": photo_sources(cfg["data"]) + (
            f" Among them the demo set's source photos {', '.join(demo)}: its scores on the demo set are not held out."
            if (demo := (blob.get("training_photos") or {}).get("demo_photos")) else ""),
        "validation data": f"held-out photos {', '.join(photo_name(d) for d in cfg['val_data'])}: {4 * len(cfg['val_data'])} crops at {cfg['val_size']} px, each from one of them drawn at random, x 5 holes (buckets 10-20% ... 50-60%)",
        "hardware": hardware,
        "arithmetic": arithmetic(cfg),
        "wall time": f"{wall_h:.2f} h for {steps_run(log, blob)}"
                     + (f" in {pieces} resumed pieces" if pieces > 1 else "")
                     + (" (steps after a killed piece's last checkpoint were redone)" if redone else ""),
        "seed": str(cfg["seed"]),
    }
    changes = blob.get("setting_changes", [])
    first = dict(cfg)  # the settings the run started with: the final ones with each change undone
    for c in reversed(changes):
        first.update({k: before for k, (before, after) in c["changed"].items()})
    flags = _flags(recipe, first)
    then = "".join(f", then from its `last.pt` at step {c['step']:,} the same with "
                   f"`{' '.join(_flag(k, after) for k, (before, after) in c['changed'].items())}`" for c in changes)
    curve = "\n".join(f"| {r['step']} | {float(r['psnr']):.3f} | {float(r['ssim']):.4f} |" for r in val)
    rel = repo_path(weights)
    variant = f" ({weights.stem})" if weights.stem != method else ""  # e.g. an ablation's weights
    if blob.get("init_from"):  # the flag that makes this run a continuation; its file is named by sha256 above
        flags += f" --init-from {blob['init_from']['path']}"
    reproduce = (f"Reproduce: `inpaintbench train {method} --out {train_dir} {flags}`{then}; then the last command with `--export {rel}`."
                 if not blob.get("source") else
                 "Made from other weights (see 'made from'); the rows and the curve are the training run of those.")
    table = "\n".join(f"| {k} | {v} |" for k, v in rows.items())
    text = (f"# {method} shipped weights{variant}\n\n`{rel}`: sha256 `{sha256_of(weights)}`, {weights.stat().st_size / 1e6:.1f} MB, fp16.\n\n"
            f"| | |\n|---|---|\n{table}\n\n{reproduce}\n"
            f"Continue from these weights (fresh optimiser and critics): add `--init-from {rel} --steps N`.\n\n"
            "## Validation curve (composite, whole image, held-out photos)\n\n| step | PSNR | SSIM |\n|---|---|---|\n" + curve + "\n")
    return text


@one_line_errors
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("method")
    p.add_argument("train_dir", type=Path)
    p.add_argument("--weights", type=Path)
    p.add_argument("--hardware", default=HARDWARE)
    p.add_argument("--card", type=Path, help="where to write the card (default: see card_path)")
    a = p.parse_args(argv)
    weights = a.weights or method_class(a.method).shipped
    out = a.card or card_path(a.method, weights)
    notes = ""
    if out.is_file() and MARKER in out.read_text():
        notes = out.read_text().split(MARKER, 1)[1]
    out.write_text(card(a.method, a.train_dir, weights, a.hardware) + f"\n{MARKER}{notes}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
