"""The one training loop every learned method in inpaintbench uses.

A method describes itself as a `Recipe` (how to build its network and critics, how one batch
turns into losses); this module owns everything else, so all methods are trained on the same
photos, holes, crops and budget, and all share the same guarantees:

- every step draws its crops and holes from numpy.random.default_rng([seed, rank, step]), so
  a resumed run continues exactly as an uninterrupted one would;
- checkpoints are written to a temporary file and renamed, so a kill at any moment leaves the
  previous checkpoint intact; OUT/last.pt is resumed whenever it exists;
- DistributedDataParallel under torchrun, bf16 autocast on CUDA (`--precision bf16`: on a CPU too);
- validation PSNR/SSIM on fixed held-out crops, the best step kept as OUT/best.pt;
- `--export` writes the best step as fp16 weights small enough to ship.

    python -m methods.<method>.train --out train_runs/<method> [--data DIR ...] [--steps N] ...
    inpaintbench train <method> [same options]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from inpaintbench.errors import BadSetting, InputError, counted, is_out_of_memory, one_line, torch_file_note
from inpaintbench.lock import exclusive, whole_lines, write_atomic
from inpaintbench.masks import BUCKETS, generate_hole
from inpaintbench.metrics.pixel import pixel_metrics
from inpaintbench.networks import sha256_of
from inpaintbench.paths import home_expanded, url_refusal
from inpaintbench.runner import check_device

from ..tf_checkpoint import tf_refusal
from .loss_network import LOSS_NETWORKS, load_loss_network
from .photos import (DEFAULT_TRAIN_PHOTOS, DEFAULT_VAL_PHOTOS, PhotoPool, expand_photo_sets, found_photos, photo_files,
                     photo_summary, shared_photos)


@dataclass
class TrainConfig:
    """Settings every method shares: data, budget, optimiser, hardware. A method subclasses it
    with its own model and loss settings."""

    out: str = ""  # run folder (checkpoints, logs); default train_runs/<method>
    data: list = field(default_factory=lambda: list(DEFAULT_TRAIN_PHOTOS))  # training photos: files, folders or photo sets by package name: plasma-workspace-wallpapers, mate-backgrounds (these two: the default, 18 photos), lomiri-wallpapers-16.04, opencv-doc, kphotoalbum, gcompris-qt-data, scratch, libdlib19.1, labelme-examples (methods/training/photos.py PHOTO_SETS)
    val_data: list = field(default_factory=lambda: list(DEFAULT_VAL_PHOTOS))  # held-out photos for validation (default: 3 Debian wallpapers and 5 photos of rooms, people and streets, in no photo set: methods/training/photos.py VAL_PHOTOS)
    steps: int = 20000  # total optimiser steps, counted from 0 also after --init-from
    batch_size: int = 8  # images per step, over all processes (the paper's rwconv: 8, on Places2 48)
    crop: int = 128  # training crop side in pixels (the published models train at 256, PConv at 512; 128 costs a quarter of the compute, for CPUs)
    val_size: int = 256  # validation crop side in pixels
    lr: float = 1e-4  # Adam learning rate (the peak, with a schedule)
    #: "constant" (the paper) or "cosine": lr * (1 + cos(pi * step / steps)) / 2, a function of the
    #: step (not of the optimiser state) so a resumed run follows the curve it would have uninterrupted;
    #: raising --steps on resume stretches what is left of the curve. "cosine-restart": the same curve
    #: over this run's own steps, from the step of its --init-from weights (a warm restart: continuing
    #: weights at step 17,500 for 3,000 steps starts at lr, not at the tail of a curve begun at 0)
    lr_schedule: str = "constant"
    betas: tuple = (0.5, 0.9)  # Adam betas
    max_hole_pct: int = 40  # holes drawn from the buckets up to this percentage (40: 0-40%, as the paper trains)
    #: permute each crop's RGB channels at random: a few photos of one palette (the wallpapers are
    #: mostly green and warm) otherwise teach a colour prior the model fills holes with instead of
    #: the colours around them; under the 6 permutations every channel has the same mean
    shuffle_channels: bool = False
    seed: int = 0  # crops, holes and initial weights follow from it
    device: str = "cpu"  # cpu, cuda or cuda:N
    #: "auto": bf16 autocast on CUDA, fp32 on CPU; "bf16": bf16 autocast on any device (a CPU with
    #: native bf16 instructions, e.g. avx512_bf16 or AMX, trains ~1.5x faster); "fp32": no autocast.
    #: Weights, optimiser state and validation stay fp32 in every case
    precision: str = "auto"
    #: NHWC weights and activations (torch.channels_last) for the model and the loss network: the
    #: layout in which GPU tensor cores run convolutions. The same arithmetic, so a resume may switch it
    channels_last: bool = False
    #: torch.compile the model's training forward and the loss network (validation stays eager):
    #: eager mode runs the reflect pads, ELUs and concatenations between convs as separate passes
    #: over memory, and inference sits at 16% of the eager memory floor on an H200 (`inpaintbench
    #: bench`). The first step pays the compile time (a minute or more)
    compile: bool = False
    loss_net: str = "auto"  # feature network of the losses: auto (VGG16 if cached, else EfficientNet-Lite0), vgg16, efficientnet-lite0
    loss_net_weights: str | None = None  # a file with the loss network's weights instead of the cache
    val_every: int = 250  # validate (and keep best.pt) every N steps; 0 = never
    ckpt_every: int = 100  # write last.pt every N steps
    threads: int = 0  # torch CPU threads; 0 = torch's default
    #: processes that cut crops and draw holes ahead of the step (0: in the training process; -1:
    #: auto, min(8, (CPUs - 1) / processes) on CUDA, where in-process cropping (~230 images/s of 256 px) would
    #: starve the GPU, and 0 on a CPU, which has no cores to spare). Each step's batch follows from
    #: (seed, rank, step) alone, so any number gives the same batches
    workers: int = -1
    time_limit_min: float = 0.0  # stop (with a checkpoint) after this long; 0 = no limit
    init_from: str | None = None  # shipped fp16 weights to continue from when OUT has no last.pt (fresh optimiser state)

    #: the least a numeric setting may be where that is not 0 (every other int or float setting
    #: must be at least 0, --lr too: 0 holds the weights still; a method's config adds its own),
    #: and those that must be above 0
    FLOORS: ClassVar[dict] = {"workers": -1, "steps": 1, "batch_size": 1, "crop": 1, "val_size": 1, "ckpt_every": 1,
                              "max_hole_pct": 10}
    ABOVE_ZERO: ClassVar[tuple] = ()

    def setting_problems(self) -> list[str]:
        """Out-of-range settings as the flags a user typed: a negative --hole-weight trained on a
        negative loss, --lr -1 and --cnum 0 ended in tracebacks, --batch-size 0 trained at batch 1."""
        problems = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            flag = "--" + f.name.replace("_", "-")
            if f.name in self.ABOVE_ZERO and not v > 0:
                problems.append(f"{flag} must be above 0, got {v}")
            elif not v >= self.FLOORS.get(f.name, 0):
                problems.append(f"{flag} must be at least {self.FLOORS.get(f.name, 0)}, got {v}")
        if len(self.betas) != 2:  # Adam's IndexError, as a traceback
            problems.append(f"--betas takes two values (Adam's beta1 beta2), got {' '.join(map(str, self.betas))}")
        elif not all(0 <= b < 1 for b in self.betas):
            problems.append(f"--betas must each be in [0, 1), got {' '.join(map(str, self.betas))}")
        # found after minutes of loading otherwise (the schedule at the first step, the precision at the model)
        for flag, value, choices in (("--lr-schedule", self.lr_schedule, LR_SCHEDULES), ("--precision", self.precision, PRECISIONS),
                                     ("--loss-net", self.loss_net, LOSS_NETWORKS)):
            if value not in choices:
                problems.append(f"{flag} must be one of {', '.join(choices)}, got {value!r}")
        # holes come from whole buckets: --max-hole-pct 45 trained to 40%, 90 to 60%, without a word
        if self.max_hole_pct not in (tops := [b.hi_pct for b in BUCKETS]) and self.max_hole_pct >= self.FLOORS["max_hole_pct"]:
            problems.append(f"--max-hole-pct must be one of {', '.join(map(str, tops))} (holes are drawn from the "
                            f"buckets up to it), got {self.max_hole_pct}")
        return problems

    def __post_init__(self):
        # a set's name becomes its files here, so the config (and every checkpoint and card) lists them
        for key in ("data", "val_data"):
            setattr(self, key, expand_photo_sets(getattr(self, key)))


class Recipe:
    """What a learned method tells the trainer. Subclasses set `name` and `Config` and
    implement `model_config`, `build_model`, `forward`, `generator_losses`, `prediction`;
    GAN-trained methods also `build_critics` and `critic_losses`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = TrainConfig
    #: the loss network (VGG16 pool1-3, or EfficientNet-Lite0 offline) is loaded only when used
    uses_loss_network: ClassVar[bool] = True
    #: image sides must be multiples of this
    multiple_of: ClassVar[int] = 4
    #: and at least this long: reflect padding deep in a network needs a feature map wider than the pad
    min_side: ClassVar[int] = 1
    #: learning rate of a critic relative to the generator's (EdgeConnect trains D at 0.1x)
    critic_lr_ratio: ClassVar[float] = 1.0

    def __init__(self, cfg: TrainConfig | None = None):
        self.cfg = cfg if cfg is not None else self.Config()
        self.loss_net = None
        self.calibration: dict = {}

    @classmethod
    def multiple_for(cls, model_config: dict | None) -> int:
        """`multiple_of` for a network built with these settings (None: the defaults')."""
        return cls.multiple_of

    @classmethod
    def size_problem(cls, h: int, w: int, model_config: dict | None = None) -> str | None:
        """Why the network (built with `model_config`, or the defaults) cannot take an h x w image, or None."""
        k = cls.multiple_for(model_config)
        if h % k or w % k:
            return f"{cls.name} needs image sides divisible by {k}, got {h}x{w}"
        if min(h, w) < cls.min_side:
            return f"{cls.name} needs image sides of at least {cls.min_side} px, got {h}x{w}"
        return None

    @classmethod
    def weights_format(cls) -> str:
        return f"inpaintbench.{cls.name}.v1"

    def model_config(self) -> dict:
        """The settings `build_model` needs to rebuild the inference network."""
        raise NotImplementedError

    @classmethod
    def build_model(cls, model_config: dict) -> nn.Module:
        raise NotImplementedError

    def build_critics(self) -> dict[str, nn.Module]:
        return {}

    #: the settings `calibrate` reads: weights continued under other values of these (or under
    #: another loss network) do not keep constants made for the old ones
    calibrated_by: ClassVar[tuple[str, ...]] = ()

    def calibrate(self, pool: "PhotoPool") -> dict:
        """Constants derived from data before step 0 (stored in checkpoints)."""
        return {}

    def recalibrate(self, calibration: dict, before: dict) -> dict | None:
        """The constants for this run's `calibrated_by` settings from those made under `before`
        (the continued weights' config), the loss network unchanged; None: calibrate anew."""
        return None

    def step_memory_floor(self) -> tuple[int, str] | None:
        """(bytes, what holds them): what one part of a training step that grows faster than the crop's
        area (a position gram) holds at the step's peak, for a CPU run to be warned of before the
        kernel's OOM killer ends it without a message; None where no part does."""
        return None

    def forward(self, model: nn.Module, gt: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def critic_losses(self, critics: dict, out: dict, gt: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """Discriminator losses with the generator's outputs detached; must hold "total"."""
        raise NotImplementedError

    def generator_losses(self, out: dict, critics: dict, gt: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """Must hold "total"."""
        raise NotImplementedError

    @classmethod
    def prediction(cls, model: nn.Module, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The network's raw output in [0, 1] for images in [0, 1] (hole pixels ignored)."""
        raise NotImplementedError

    def adapt_init(self, ck: dict, model: nn.Module) -> tuple[dict, dict] | None:
        """For --init-from weights of this method but another model config: (a state dict for
        `model`, a record of what was done), or None where the weights cannot start this model."""
        return None

    @classmethod
    def card_rows(cls, blob: dict) -> dict[str, str]:
        """Model-card rows particular to the method (width against the paper's, losses)."""
        return {}

    #: the authors' checkpoint layouts `from_foreign` accepts, said in error messages
    foreign_formats: ClassVar[str] = ""
    #: an authors' release split over several files in one folder: {key in the blob: file name}
    foreign_folder: ClassVar[dict] = {}
    #: whether `python -m methods.<name>.convert_tf` turns the authors' TensorFlow checkpoints into weights
    converts_tf: ClassVar[bool] = False

    @classmethod
    def from_foreign(cls, blob: dict) -> dict | None:
        """{"model_config", "state_dict"} from an authors' checkpoint, or None if not one."""
        return None


def _rank() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def training_hole(rng: np.random.Generator, size: int, max_pct: int) -> np.ndarray:
    """Holes drawn at the evaluation scale (256 px strokes), cropped if training crops are smaller,
    so stroke widths in pixels match what the model meets in evaluation."""
    buckets = [b for b in BUCKETS if b.hi_pct <= max_pct]
    b = buckets[int(rng.integers(len(buckets)))]
    full = max(size, 256)
    hole = generate_hole(b, int(rng.integers(2**31)), seed=int(rng.integers(2**31)), size=full, box_prob=0.1)
    y, x = int(rng.integers(0, full - size + 1)), int(rng.integers(0, full - size + 1))
    return hole[y : y + size, x : x + size]


def make_batch(pool: PhotoPool, rng, cfg: TrainConfig, n: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    imgs = np.stack([pool.crop(rng, size) for _ in range(n)])
    holes = np.stack([training_hole(rng, size, cfg.max_hole_pct) for _ in range(n)])
    if cfg.shuffle_channels:  # drawn last, so crops and holes are the ones an unshuffled run gets
        imgs = np.stack([img[..., rng.permutation(3)] for img in imgs])
    return (torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(holes)[:, None].float())


class StepBatches(torch.utils.data.Dataset):
    """The batch of optimiser step `i`, indexed by step so that a DataLoader's worker processes
    can build batches ahead in any order and a resumed run picks up at its own step."""

    def __init__(self, pool: PhotoPool, cfg: TrainConfig, rank: int, n: int):
        self.pool, self.cfg, self.rank, self.n = pool, cfg, rank, n

    def __len__(self):
        return self.cfg.steps

    def __getitem__(self, step: int):
        return make_batch(self.pool, np.random.default_rng([self.cfg.seed, self.rank, step]), self.cfg, self.n, self.cfg.crop)


def data_workers(cfg: TrainConfig, device: torch.device, world: int = 1) -> int:
    if cfg.workers >= 0:
        return cfg.workers
    return min(8, ((os.cpu_count() or 1) - 1) // world) if device.type == "cuda" else 0


def step_batches(pool: PhotoPool, cfg: TrainConfig, rank: int, n: int, first_step: int, workers: int = 0, pin: bool = False):
    """Batches for steps first_step, first_step + 1, ... up to cfg.steps."""
    # forked on Linux, as every Python before 3.14 did by default: 3.14's fork server would pickle
    # the decoded photos to each worker (the wallpapers: 353 MiB each; up to ~3 GB at
    # IN_MEMORY_PHOTOS) and each would import torch afresh; a fork shares them. Fork's hazard (a lock
    # another thread held at the fork) is the one PyTorch's DataLoader has always lived with on Linux
    context = "fork" if workers and sys.platform.startswith("linux") else None
    return iter(torch.utils.data.DataLoader(StepBatches(pool, cfg, rank, n), batch_size=None, sampler=range(first_step, cfg.steps),
                                            num_workers=workers, pin_memory=pin, prefetch_factor=4 if workers else None,
                                            multiprocessing_context=context))


#: validation crops are 4 per photo up to this many photos: each crop is held five times (one per
#: hole bucket) as float32 with its hole, and a real held-out set (Places2's 36,500 photos) would be ~700 GB
VAL_PHOTOS_MAX = 64


def validation_set(cfg: TrainConfig, pool: PhotoPool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed held-out crops, 4 per photo on average (up to VAL_PHOTOS_MAX photos' worth), each from a
    photo drawn at random, each paired with one frozen-style hole per bucket 10-20%..50-60%.
    `pool`: PhotoPool(cfg.val_data), where the caller has it."""
    pool = PhotoPool(cfg.val_data) if pool is None else pool
    rng = np.random.default_rng([cfg.seed, 999])
    imgs, holes = [], []
    for i in range(4 * min(len(pool), VAL_PHOTOS_MAX)):
        img = pool.crop(rng, cfg.val_size)
        for b in BUCKETS[1:]:
            imgs.append(img)
            holes.append(generate_hole(b, i, seed=12345, size=cfg.val_size))
    return (torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(np.stack(holes))[:, None].float())


def mean_fill_reference(pool: PhotoPool, cfg: TrainConfig, n: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(gt, hole, reference): a fixed batch and the same images with holes filled by each
    image's mean colour, the yardstick loss weights are calibrated against when the loss
    network is not the one a method's published weights were tuned for."""
    gt, hole = make_batch(pool, np.random.default_rng([cfg.seed, 424242]), cfg, n, cfg.crop)
    return gt, hole, gt * (1 - hole) + gt.mean(dim=(2, 3), keepdim=True) * hole


#: settings that may differ between the pieces of a resumed run without changing what it computes
RESUME_FREE = {"out", "time_limit_min", "threads", "workers", "device", "init_from", "val_every", "ckpt_every",
               "channels_last", "compile"}


def same_setting(a, b) -> bool:
    """A setting's value compared across a dataclass (tuples) and a checkpoint's config (lists)."""
    def plain(v):
        return list(v) if isinstance(v, tuple) else v
    return plain(a) == plain(b)


def save_atomic(obj, path: Path) -> None:
    write_atomic(path, lambda f: torch.save(obj, f))


def run_folder_note(path: Path) -> str | None:
    """What to give instead of a training run's folder, where `path` is one; else None."""
    kept = [f for f in ("best.pt", "last.pt") if (path / f).is_file()] if path.is_dir() else []
    if not kept:
        return None
    return f"is a training run's folder: give {path / kept[0]}" + (" (its best validation step; last.pt: its latest)"
                                                                   if len(kept) == 2 else "")


def load_checkpoint(path: Path) -> dict:
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file: say which and why, never a bare traceback
        why = torch_file_note(path) or f"{type(e).__name__}: {e}"
        raise BadSetting(f"{path}: not a readable checkpoint ({why})") from None
    return upgrade_layout(ck)


def upgrade_layout(ck):
    """Checkpoints written before critics existed (rwconv, Nov 2026) held `model`/`optimizer`;
    now `nets`/`optims`. Anything else (weights files, authors' checkpoints) passes unchanged."""
    if isinstance(ck, dict) and "model" in ck and "model_config" in ck and "nets" not in ck:
        ck["nets"], ck["optims"] = {"model": ck.pop("model")}, {"model": ck.pop("optimizer", None)}
    return ck


@torch.no_grad()
def validate(recipe: Recipe, model, val, device) -> dict[str, float]:
    """PSNR/SSIM of the composite (known pixels kept), whole image, on the fixed validation crops."""
    model.eval()
    scores = {"psnr": [], "ssim": []}
    for i in range(0, len(val[0]), 8):
        gt, hole = val[0][i : i + 8].to(device), val[1][i : i + 8].to(device)
        pred = recipe.prediction(model, gt * (1 - hole), hole).clamp(0, 1).float()
        m = pixel_metrics(gt * (1 - hole) + pred * hole, gt, hole)
        scores["psnr"] += m["psnr"].tolist()
        scores["ssim"] += m["ssim"].tolist()
    model.train()
    return {k: float(np.mean(v)) for k, v in scores.items()}


def export_weights(ckpt: dict, path: Path, fmt: str | None = None) -> Path:
    """fp16 state dict of the inference network + everything needed to rebuild and describe it."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["nets"]["model"].items()}
    fmt = fmt or f"inpaintbench.{ckpt.get('method', 'rwconv')}.v1"
    keep = ("method", "config", "model_config", "step", "loss_network", "best_val", "calibration", "lambdas", "init_from", "setting_changes",
            "training_photos")
    save_atomic({"format": fmt, "state_dict": state, **{k: ckpt[k] for k in keep if k in ckpt}}, Path(path))
    return Path(path)


LR_SCHEDULES = ("constant", "cosine", "cosine-restart")
PRECISIONS = ("auto", "bf16", "fp32")


def autocast_enabled(precision: str, device: torch.device) -> bool:
    if precision not in PRECISIONS:
        raise BadSetting(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def lr_factor(cfg: TrainConfig, step: int, start: int = 0) -> float:
    """Multiplier of cfg.lr for the optimiser step that follows `step` completed steps; `start`:
    the step the run's --init-from weights had (0 without), where "cosine-restart" begins."""
    if cfg.lr_schedule == "constant":
        return 1.0
    if cfg.lr_schedule in ("cosine", "cosine-restart"):
        start = start if cfg.lr_schedule == "cosine-restart" else 0
        return 0.5 * (1 + math.cos(math.pi * max(0, min(step, cfg.steps) - start) / max(1, cfg.steps - start)))
    raise BadSetting(f"unknown lr_schedule {cfg.lr_schedule!r}; choose from {LR_SCHEDULES}")


def compiled(model: nn.Module) -> nn.Module:
    """`--compile` (the trainer's and `inpaintbench bench`'s): torch.compile, where a compiler failure
    (a missing toolchain, an unsupported op) runs that code eager with a warning instead of ending a
    run that holds a GPU for minutes."""
    torch._dynamo.config.suppress_errors = True
    return torch.compile(model)


def compiled_for_training(model: nn.Module, recipe: Recipe) -> nn.Module:
    """`--compile` in a training step: the model and the frozen loss network. The loss network runs
    three times a step (two with a backward), ~320 kernels each eager against ~990 for the model's
    whole step eager, which compiling fuses; a GPU run is far from the H200's bandwidth and compute
    (the card's run 10), so the launches count."""
    model = compiled(model)  # also sets the eager fallback for the loss network's compile
    if recipe.loss_net is not None:
        # in place (nn.Module.compile): the recipe keeps the module whose name and hash checkpoints
        # record; a torch.compile wrapper there would have no truth value (`loss_net and {...}` raises)
        recipe.loss_net.compile()
    return model


def train_step(recipe: Recipe, model: nn.Module, critics: dict, opts: dict, gt: torch.Tensor, hole: torch.Tensor,
               bf16: bool) -> dict[str, torch.Tensor]:
    """One optimiser step of every network (the trainer's and `inpaintbench bench`'s): the critics
    on the detached outputs first, then the generator against the updated critics. Returns the
    loss terms, the critics' prefixed `d_`."""
    def autocast():
        return torch.autocast(gt.device.type, torch.bfloat16, enabled=bf16)

    with autocast():
        outputs = recipe.forward(model, gt, hole)
    terms = {}
    if critics:
        with autocast():
            d_terms = recipe.critic_losses(critics, {k: v.detach() for k, v in outputs.items()}, gt, hole)
        for k in critics:
            opts[k].zero_grad(set_to_none=True)
        d_terms["total"].backward()
        for k in critics:
            opts[k].step()
        terms = {f"d_{k}": v for k, v in d_terms.items()}
    with autocast():
        g_terms = recipe.generator_losses(outputs, critics, gt, hole)
    opts["model"].zero_grad(set_to_none=True)
    for k in critics:  # the generator's adversarial term must not leave gradients in the critics
        opts[k].zero_grad(set_to_none=True)
    g_terms["total"].backward()
    opts["model"].step()
    return {**g_terms, **terms}


def check_settings(recipe: Recipe) -> list[Path]:
    """The settings' own problems and missing photos, before minutes of loading (and before a
    progress bar is drawn): the validation photos were found only after the run folder was made.
    Returns the training photos, for `train` to use rather than list again (Places2's 1.8M files:
    ~25 s a listing on a local disk, minutes on a network one)."""
    cfg = recipe.cfg
    if problems := cfg.setting_problems():
        raise BadSetting("; ".join(problems))
    for option, side in (("--crop", cfg.crop), ("--val-size", cfg.val_size)):
        if problem := recipe.size_problem(side, side, recipe.model_config()):
            raise BadSetting(f"{option} {side}: {problem}")
    check_device(cfg.device)
    training = found_photos(cfg.data)
    if cfg.val_every:
        # validation picks the step --export ships and the card calls its photos held out
        if shared := shared_photos(training, found_photos(cfg.val_data, "validation", "--val-data")):
            named = ", ".join(f"{v} is {t}" for v, t in shared[:3])
            are = "photo is also a training photo" if len(shared) == 1 else "photos are also training photos"
            raise BadSetting(f"{len(shared)} validation {are} ({named}"
                             f"{' ...' if len(shared) > 3 else ''}): validation would measure what the model has seen; "
                             f"pass --val-data photos outside --data")
    return training


def available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux); None where there is none to read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def train(recipe: Recipe, log=print, on_step=None, photos: list[Path] | None = None) -> Path:
    """on_step(step, total, loss terms) is called on rank 0 after every optimiser step. `photos`:
    what check_settings returned, where the caller ran it already (the command does, before drawing
    its bar); it lists the training photos and compares them with the validation ones, once is enough."""
    with contextlib.ExitStack() as held:  # the run folder's lock, taken once the folder exists
        return _train(recipe, log, on_step, held, photos)


def _train(recipe: Recipe, log, on_step, held: contextlib.ExitStack, photos: list[Path] | None) -> Path:
    cfg = recipe.cfg
    if photos is None:
        photos = check_settings(recipe)
    if cfg.device == "cpu" and (floor := recipe.step_memory_floor()) and (free := available_memory()) and floor[0] > free:
        log(f"warning: a training step at --crop {cfg.crop} --batch-size {cfg.batch_size} holds about "
            f"{floor[0] / 1e9:.0f} GB in {floor[1]} alone, and this machine has {free / 1e9:.0f} GB available: the "
            f"kernel may end the run without a message; a smaller --crop or --batch-size needs less")
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cfg.device.startswith("cuda") else "gloo")
    rank, world = _rank()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device if not cfg.device.startswith("cuda") or world == 1 else f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    out = Path(cfg.out or f"train_runs/{recipe.name}")
    torch.manual_seed(cfg.seed)
    nets = {"model": recipe.build_model(recipe.model_config()), **recipe.build_critics()}
    layout = torch.channels_last if cfg.channels_last else torch.preserve_format
    for n in nets.values():
        n.to(device, memory_format=layout).train()
    opts = {k: torch.optim.Adam(n.parameters(), lr=cfg.lr * (1 if k == "model" else recipe.critic_lr_ratio), betas=tuple(cfg.betas))
            for k, n in nets.items()}
    if recipe.uses_loss_network:
        recipe.loss_net = load_loss_network(cfg.loss_net, cfg.loss_net_weights)
    pool = PhotoPool(cfg.data, files=photos)
    val_pool = PhotoPool(cfg.val_data) if rank == 0 and cfg.val_every else None
    # check_settings compared files; a lossless re-save is the same photo in other bytes
    if val_pool is not None and (same := pool.same_pixels(val_pool)):
        named = ", ".join(f"{v} has the pixels of {t}" for v, t in same[:3])
        raise BadSetting(f"{counted(len(same), 'validation photo')} {'is a training photo' if len(same) == 1 else 'are training photos'}"
                         f" saved again ({named}{' ...' if len(same) > 3 else ''}): validation would measure what the "
                         f"model has seen; pass --val-data photos outside --data")

    def hold_folder():
        # once the photos, networks and any --init-from weights are found: a refused run leaves no folder
        out.mkdir(parents=True, exist_ok=True)
        if rank == 0:  # the one process that writes checkpoints and logs
            held.enter_context(exclusive(out, "training run"))

    step, best, calibration = 0, -math.inf, None
    #: the weights a run continued from, by content: the file at that path may be replaced later
    #: (continued weights are often shipped under the same name), the record must still say what it was
    init_from = None
    val_step = None  # the step last validated
    last = out / "last.pt"

    def settings_of(ck: dict) -> dict:
        """The settings a checkpoint was made under; one newer than the checkpoint had its default."""
        return {**asdict(type(cfg)()), **(ck.get("config") or {})}

    def restore(path: Path, verb: str, adapt: bool = False) -> dict:
        """A checkpoint or shipped weights of this very method and architecture (or, with `adapt`,
        weights the recipe can turn into it: their state_dict replaced, the record under "adapted");
        sets step/best/calibration."""
        nonlocal step, best, calibration
        ck = load_checkpoint(path)
        same_method = ck.get("method", "rwconv") == recipe.name
        if not same_method or ck.get("model_config") != recipe.model_config():
            adapted = recipe.adapt_init(ck, nets["model"]) if adapt and same_method else None
            if adapted is None:
                raise BadSetting(f"{path} {verb} {ck.get('method', 'rwconv')} {ck.get('model_config')}, "
                                 f"this run asks for {recipe.name} {recipe.model_config()}")
            ck = {**ck, "state_dict": adapted[0], "adapted": adapted[1]}
        step, best = int(ck["step"]), ck.get("best_val", {}).get("psnr", -math.inf)
        calibration = ck.get("calibration", {"lambdas": ck.get("lambdas")})
        theirs = settings_of(ck)
        stale = [f"{k} {theirs[k]} -> {getattr(cfg, k)}" for k in recipe.calibrated_by if not same_setting(theirs[k], getattr(cfg, k))]
        net_name = (ck.get("loss_network") or {}).get("name")
        net_changed = recipe.loss_net is not None and net_name is not None and net_name != recipe.loss_net.name
        if net_changed:
            stale.append(f"loss network {net_name} -> {recipe.loss_net.name}")
        if stale:
            rescaled = None if net_changed else recipe.recalibrate(calibration, theirs)
            log(f"{'rescaling' if rescaled else 'recalibrating'} (calibrated under other settings: {', '.join(stale)})")
            calibration = rescaled
        return ck

    setting_changes = []  # [{step, changed: {setting: [before, after]}}]: how a resumed run's recipe changed
    remeasure = False  # the recorded best was measured on other validation crops than this run's
    resuming = last.is_file()  # looked at once: a last.pt appearing between two looks would be read without the lock
    if resuming or not cfg.init_from:
        hold_folder()
    if resuming:
        ck = restore(last, "was trained with")
        setting_changes = ck.get("setting_changes", [])
        before = settings_of(ck)
        changed = {k: [before[k], v] for k, v in asdict(cfg).items() if k not in RESUME_FREE and not same_setting(before[k], v)}
        if changed:
            setting_changes = [*setting_changes, {"step": step, "changed": changed}]
            log(f"resumed with other settings from step {step}: " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()))
        remeasure = bool({"val_data", "val_size", "seed"} & set(changed))
        if remeasure and (out / "best.pt").is_file():
            # a best step chosen on the old crops is kept under another name, so --export takes a step
            # chosen on this run's crops (or last.pt), never one the two yardsticks would mix up
            os.replace(out / "best.pt", out / f"best_before_step{step}.pt")
            log(f"validation crops changed: best.pt kept as best_before_step{step}.pt")
        for k, n in nets.items():
            n.load_state_dict(ck["nets"][k])
            opts[k].load_state_dict(ck["optims"][k])
        torch.set_rng_state(ck["torch_rng"])
        init_from, val_step = ck.get("init_from"), ck.get("val_step")
        log(f"resumed from {last} at step {step}")
        if step >= cfg.steps:  # a finished run started again, or a lower --steps: it had ended without a word
            log(f"step {step:,} is at or past --steps {cfg.steps:,}: nothing to train (a larger --steps continues the run)")
    elif cfg.init_from:
        if refusal := tf_refusal(Path(cfg.init_from), recipe.name, recipe.converts_tf, "--init-from"):
            raise BadSetting(refusal)
        if not Path(cfg.init_from).exists():  # after tf_refusal, which knows a TF prefix (no file of its own name)
            raise BadSetting(f"--init-from {cfg.init_from}: no such file")
        if note := run_folder_note(Path(cfg.init_from)):
            raise BadSetting(f"--init-from {cfg.init_from} {note}")
        remeasure = True
        ck = restore(Path(cfg.init_from), "holds", adapt=True)
        if step >= cfg.steps:  # before the folder: the shipped rwconv.pt is at 62,750 and --steps defaults to 20,000
            raise BadSetting(f"--steps {cfg.steps} is not past the step of the --init-from weights ({step:,}): nothing "
                             f"would be trained; --steps counts from 0, so give more (--steps {step + 1} or more)")
        adapted = ck.get("adapted")
        init_from = {"path": cfg.init_from, "sha256": sha256_of(Path(cfg.init_from)), "step": step,
                     **({"best_val": ck["best_val"]} if "best_val" in ck else {}), **({"adapted": adapted} if adapted else {})}
        nets["model"].load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
        hold_folder()
        log(f"continuing from shipped weights {cfg.init_from} at step {step}" + (f", {adapted['how']}" if adapted else "")
            + " (optimiser state and critics start fresh)")
    recipe.calibration = calibration if calibration is not None else recipe.calibrate(pool)
    if recipe.loss_net is not None:
        recipe.loss_net.to(device, memory_format=layout)
        log(f"loss network {recipe.loss_net.name}" + "".join(f"; {k} = {v}" for k, v in recipe.calibration.items()))
    wrapped = {k: nn.parallel.DistributedDataParallel(n) if world > 1 else n for k, n in nets.items()}
    if cfg.compile:  # checkpoints keep saving `nets`, whose state_dict keys compiling would prefix
        wrapped["model"] = compiled_for_training(wrapped["model"], recipe)
    critics = {k: n for k, n in wrapped.items() if k != "model"}
    val = validation_set(cfg, val_pool) if val_pool is not None else None
    val_pool = None  # its crops taken: the decoded photos are not held through the training
    # the photos as found (a folder in --data counts by its files), kept with every checkpoint and export
    training_photos = photo_summary([str(f) for f in pool.files])
    if seen := pool.demo_photos():  # the weights' demo-set scores would not be held out: said wherever they are reported
        training_photos["demo_photos"] = seen
        log(f"warning: {counted(len(seen), 'training photo')} {'is' if len(seen) == 1 else 'are'} the demo set's own ({', '.join(seen)}): the model's scores on "
            f"the demo set will measure photos it has seen (report captions say so)")
    sets, others = training_photos["sets"], training_photos["other_files"]
    if step < cfg.steps:  # after "nothing to train" it had said "training on N photos; validating ..."
        log(f"training on {counted(training_photos['count'], 'photo')}"
            + (f" ({', '.join(sets)}" + (f" and {counted(others, 'other file')}" if others else "") + ")" if sets else "")
            + (f"; validating on {counted(len(val[0]), 'crop')} of {counted(len(photo_files(cfg.val_data)), 'held-out photo')} "
               f"every {'step' if cfg.val_every == 1 else f'{cfg.val_every} steps'}" if val is not None else ""))
    if not pool.in_memory:
        log(f"{len(pool)} training photos, more than are held decoded: each is decoded as it is drawn "
            f"(--workers processes do it ahead of the steps)")
    elif small := pool.smaller_than(cfg.crop):
        log(f"{counted(len(small), 'training photo')} with a short side under --crop {cfg.crop}: their crops are the whole short "
            f"side enlarged (bicubic): {', '.join(f.name for f in small[:5])}" + (", ..." if len(small) > 5 else ""))
    per_rank = max(1, cfg.batch_size // world)
    bf16 = autocast_enabled(cfg.precision, device)

    def checkpoint(best_val=None):
        if rank != 0:
            return
        ck = {"method": recipe.name, "nets": {k: n.state_dict() for k, n in nets.items()},
              "optims": {k: o.state_dict() for k, o in opts.items()}, "step": step, "torch_rng": torch.get_rng_state(),
              "config": asdict(cfg), "model_config": recipe.model_config(), "calibration": recipe.calibration,
              **({"lambdas": recipe.calibration["lambdas"]} if "lambdas" in recipe.calibration else {}),
              "loss_network": recipe.loss_net and {"name": recipe.loss_net.name, "weights_sha256": recipe.loss_net.weights_sha256},
              "best_val": best_val or {"psnr": best}, "val_step": val_step, **({"init_from": init_from} if init_from else {}),
              **({"setting_changes": setting_changes} if setting_changes else {}), "training_photos": training_photos}
        save_atomic(ck, last)
        return ck

    def validation(starting_point: bool = False):
        nonlocal best, val_step
        v = validate(recipe, nets["model"], val, device)
        if valf.tell() == 0:
            csv.writer(valf).writerow(["step", "psnr", "ssim"])
        csv.writer(valf).writerow([step, round(v["psnr"], 4), round(v["ssim"], 5)])
        valf.flush()
        val_step = step
        if starting_point:  # the bar later steps must clear; best.pt stays for weights this run made
            log(f"validation of the starting weights, step {step}: psnr {v['psnr']:.3f} ssim {v['ssim']:.4f} "
                f"(the best recorded with them: {best:.3f})")
            best = v["psnr"]
            return
        ck = checkpoint(v if v["psnr"] > best else None)
        if v["psnr"] > best:
            best = v["psnr"]
            ck["best_val"] = {**v, "step": step}
            save_atomic(ck, out / "best.pt")
        log(f"validation step {step}: psnr {v['psnr']:.3f} ssim {v['ssim']:.4f} (best {best:.3f})")

    t_start, t_last, seen = time.time(), time.time(), 0
    if rank == 0:  # a row cut off by a kill or a full disk: the next session's first row was glued to it
        for log_file in (out / "train_log.csv", out / "val.csv"):
            if log_file.is_file():
                whole_lines(log_file, cut=True)
    # closed with the run folder's lock when the run ends, however it ends (a process that trains
    # again, a notebook or the tests, kept two handles open a run; rows are flushed as written)
    logf = held.enter_context(open(out / "train_log.csv", "a", newline="")) if rank == 0 else None
    # a resumed run appends under the header its file already has: a loss term that a changed
    # setting removes must not shift the columns under it (one it adds extends the header)
    log_header = None
    if logf is not None and (out / "train_log.csv").stat().st_size:
        with open(out / "train_log.csv", newline="") as f:
            log_header = next(csv.reader(f), None)
    valf = held.enter_context(open(out / "val.csv", "a", newline="")) if rank == 0 and val is not None else None
    start = init_from["step"] if init_from else 0  # a resume finds it in its checkpoint, so the curve is the same
    if remeasure and val is not None:
        # weights a run continues from (or resumes with other validation settings) are measured on
        # this run's own validation crops before it trains: the score recorded with them may come
        # from other crops (another --val-data, a default changed since) or their fp32 original, and
        # a stale high score keeps every later step out of best.pt, a stale low one lets a worse in
        validation(starting_point=True)
    batches = step_batches(pool, cfg, rank, per_rank, step, data_workers(cfg, device, world), pin=device.type == "cuda")
    while step < cfg.steps:
        for k, o in opts.items():
            for g in o.param_groups:
                g["lr"] = cfg.lr * (1 if k == "model" else recipe.critic_lr_ratio) * lr_factor(cfg, step, start)
        gt, hole = next(batches)
        gt, hole = (t.to(device, non_blocking=True, memory_format=layout) for t in (gt, hole))
        terms = train_step(recipe, wrapped["model"], critics, opts, gt, hole, bf16)
        step += 1
        seen += per_rank * world
        if rank == 0 and on_step:
            on_step(step, cfg.steps, terms)
        if rank == 0:
            if step % 10 == 0 or step == cfg.steps:  # and the last: a run of 3 steps had an empty train_log.csv
                now = time.time()
                rate = seen / (now - t_last)
                t_last, seen = now, 0
                row = {"step": step, **{k: round(float(v.detach()), 6) for k, v in terms.items()},
                       "lr": float(f"{opts['model'].param_groups[0]['lr']:.4g}"), "images_per_s": round(rate, 3),
                       "wall_s": round(now - t_start, 1)}
                if log_header is None:
                    log_header = list(row)
                    csv.writer(logf).writerow(log_header)
                elif added := [k for k in row if k not in log_header]:
                    # a term a resume's setting adds (--seam-weight) gets a column, empty in the rows
                    # before: these rows are the only record of it (the screen shows the bar alone)
                    logf.close()
                    log_header = log_header + added
                    _rewrite_csv(out / "train_log.csv", log_header)
                    logf = held.enter_context(open(out / "train_log.csv", "a", newline=""))
                csv.DictWriter(logf, log_header, restval="", extrasaction="ignore").writerow(row)
                logf.flush()
            if val is not None and step % cfg.val_every == 0:
                validation()
            elif step % cfg.ckpt_every == 0:
                checkpoint()
        if cfg.time_limit_min and time.time() - t_start > cfg.time_limit_min * 60:
            break
    if val is not None and step >= cfg.steps and val_step != step:
        # the last step, where a decaying schedule ends, is always a candidate for best.pt, also when
        # --steps is no multiple of --val-every (and once, if a finished run is started again)
        validation()
    else:
        checkpoint()
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return last


def _rewrite_csv(path: Path, header: list[str]) -> None:
    """`path`'s rows under `header`, a superset of its own (the new columns empty), written atomically."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, header, restval="")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def field_help(config_cls: type) -> dict[str, str]:
    """Each setting's comment in its dataclass (a trailing `# ...` or the `#:` lines above it), so
    --help says what the source says without a second copy to keep in step."""
    import inspect
    import re

    docs: dict[str, str] = {}
    for cls in reversed(config_cls.__mro__):
        if cls is object or not hasattr(cls, "__dataclass_fields__"):
            continue
        above: list[str] = []
        for line in inspect.getsource(cls).splitlines():
            text = line.strip()
            if text.startswith("#:"):
                above.append(text[2:].strip())
                continue
            m = re.match(r"(\w+): [^=]+=.*?(?:  # (.*))?$", text)
            if m:
                doc = " ".join(above + ([m.group(2)] if m.group(2) else []))
                if doc:
                    docs[m.group(1)] = doc
            above = []
    return docs


def main(recipe_cls: type[Recipe], argv=None):
    """Command line for a recipe: every field of its Config becomes an option."""
    # usage lines and argparse's errors name the command the user typed
    via_cli = Path(sys.argv[0]).name == "inpaintbench"
    prog = f"inpaintbench train {recipe_cls.name}" if via_cli else f"python -m methods.{recipe_cls.name}.train"
    p = argparse.ArgumentParser(prog=prog, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    docs = field_help(recipe_cls.Config)
    for f in fields(recipe_cls.Config):
        default = f.default if f.default_factory is field().default_factory else f.default_factory()
        name = "--" + f.name.replace("_", "-")
        doc = docs.get(f.name, "").replace("%", "%%")
        if isinstance(default, bool):
            p.add_argument(name, action=argparse.BooleanOptionalAction, default=default, help=doc)
        elif isinstance(default, (list, tuple)):  # a list default (photo paths) is described in its comment
            p.add_argument(name, nargs="+", type=type(default[0]) if default else str, default=default,
                           help=doc + (f" (default: {' '.join(map(str, default))})" if isinstance(default, tuple) else ""))
        else:
            p.add_argument(name, type=type(default) if default is not None else str, default=default,
                           help=doc + (" (default: %(default)s)" if default not in (None, "") else ""))
    p.add_argument("--export", help="write the best checkpoint as fp16 shipping weights to this path and exit")
    # `inpaintbench train` passes arguments its main() has expanded; `python -m` hands the shell's over
    args = home_expanded(sys.argv[1:]) if argv is None else argv
    if refusal := url_refusal(args):  # `--data https://...` had looked for photos under ./https:/
        print(f"error: {refusal}", file=sys.stderr)
        sys.exit(2)
    a = vars(p.parse_args(args))
    export = a.pop("export")
    cfg = recipe_cls.Config(**a)
    cfg.out = cfg.out or f"train_runs/{recipe_cls.name}"
    try:
        if export:
            # "--steps 40000 --export F" read as "train on, then export" exported the step reached
            unused = [k for k, v in vars(p.parse_args([])).items() if k not in ("out", "export") and a[k] != v]
            if unused:
                print(f"note: --export writes a trained run's weights and trains nothing: "
                      f"{', '.join('--' + k.replace('_', '-') for k in unused)} not used")
            _export(recipe_cls, Path(cfg.out), Path(export))
        else:
            _main_run(recipe_cls, cfg)
    except (InputError, OSError) as e:  # bad settings, missing photos, --out naming a file: one line, as the harness's
        last = Path(cfg.out) / "last.pt"
        # a checkpoint is written to a temporary file and renamed: a full disk leaves the one before whole
        kept = (f": {last} holds the last checkpoint whole; the same command resumes from it once there is space"
                if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT) and last.is_file() else "")
        print(f"error: {one_line(e)}{kept}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        if not is_out_of_memory(e):
            raise
        last = Path(cfg.out) / "last.pt"  # a CUDA or CPU allocator's traceback said nothing of what to change
        print(f"error: out of memory on {cfg.device} at --batch-size {cfg.batch_size}, --crop {cfg.crop}; a smaller "
              f"either needs less" + (f", and the same command with it resumes from {last} (the change is recorded "
                                      f"with its step)" if last.is_file() else ""), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C ended the job with its bar half drawn and not a word
        last = Path(cfg.out) / "last.pt"
        print(f"interrupted: {last} holds the last checkpoint (every --ckpt-every {cfg.ckpt_every} steps); the same "
              f"command again resumes from it" if last.is_file() else "interrupted before the first checkpoint",
              file=sys.stderr)
        sys.exit(130)


def _export(recipe_cls: type[Recipe], out: Path, export: Path) -> None:
    # a continued run writes best.pt only once it beats the weights it started from
    src = next((f for f in (out / "best.pt", out / "last.pt") if f.is_file()), None)
    if src is None:
        # "--steps N --export F" read as "train, then export" trained nothing and said only this
        raise BadSetting(f"--export: {out} holds no checkpoint (best.pt or last.pt); --export writes a trained run's "
                         f"weights and exits, training nothing: train first (the same command without --export), "
                         f"or give the training run's --out")
    if export.is_dir():
        raise BadSetting(f"--export {export} is a folder; give the weights file to write, e.g. {export / (recipe_cls.name + '.pt')}")
    ck = load_checkpoint(src)
    export.parent.mkdir(parents=True, exist_ok=True)  # as every other output path here; the rename said "F.tmp: No such file"
    export_weights(ck, export, recipe_cls.weights_format())
    psnr = (ck.get("best_val") or {}).get("psnr") if src.name == "best.pt" else None
    print(f"wrote {export} from {src.name}, step {ck['step']}" + (f", validation PSNR {psnr:.3f}" if psnr is not None else ""))
    # a run stopped early (--time-limit-min, a kill) exports without a word otherwise; its last.pt
    # holds how far it got and the --steps it was last started with
    last = ck if src.name == "last.pt" else load_checkpoint(out / "last.pt") if (out / "last.pt").is_file() else ck
    planned = (last.get("config") or {}).get("steps")
    if planned and last["step"] < planned:
        print(f"note: the run stopped at step {last['step']:,} of its --steps {planned:,}; the same command without "
              f"--export continues it")


#: how often the progress bar's loss terms are read from the device (seconds)
LOSSES_EVERY_S = 0.25


def _main_run(recipe_cls: type[Recipe], cfg: TrainConfig) -> None:
    if int(os.environ.get("RANK", 0)) != 0:  # one progress bar per job, on rank 0
        # and one copy of each note: every process reads the photo folders, and their notes (a file
        # skipped) came once per process; an error is still each process's own
        logging.disable(logging.WARNING)
        train(recipe_cls(cfg), log=lambda s: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Column

    from inpaintbench.progress import LazyProgress, LogLines, message_console

    recipe = recipe_cls(cfg)
    photos = check_settings(recipe)  # a refusal is one line, not one under an empty progress bar
    console = message_console()  # a log line stays one line in a job's log file, its paths as spelt
    # in an 80-column terminal rich shrank every column alike, down to "1…" for the step and "0:0…" for
    # the times, and dropped them whole beside EdgeConnect's eleven loss terms: those keep their width,
    # the loss terms get what is left (cut at the end) and the bar shows where they leave room
    widths = [6 + len(recipe_cls.name), 2 * len(str(cfg.steps)) + 1, 7, 7]
    keep = lambda n: Column(no_wrap=True, min_width=n)
    left = max(1, console.width - sum(widths) - 5)  # five one-space gaps between six columns
    with LazyProgress(TextColumn(f"train {recipe_cls.name}", table_column=keep(widths[0])),
                      BarColumn(table_column=Column(min_width=0)), MofNCompleteColumn(table_column=keep(widths[1])),
                      TimeElapsedColumn(table_column=keep(widths[2])), TimeRemainingColumn(table_column=keep(widths[3])),
                      TextColumn("{task.fields[losses]}",
                                 table_column=Column(no_wrap=True, overflow="ellipsis", min_width=0, max_width=left)),
                      console=console) as bar:
        task = None
        lines = LogLines(bar, "steps")  # a background job's log: a line a minute, not only the end

        shown, losses = -float("inf"), ""

        def on_step(step, total, terms):
            nonlocal task, shown, losses
            # float() of a loss on a GPU waits for the step to finish, so formatting them every step
            # kept the host from queueing the next one; rich redraws ten times a second anyway
            if task is None or time.monotonic() - shown >= LOSSES_EVERY_S:
                shown = time.monotonic()
                # the total first: a narrow terminal cuts the line's end
                order = sorted(terms, key=lambda k: k != "total")
                losses = " ".join(f"{k} {float(terms[k].detach()):.4f}" for k in order)
            if task is None:
                # the bar's task from the first step: a start that fails after the settings' check (a
                # photo that does not decode) printed its line under an empty bar; counted from the
                # step a resumed run starts at, so its time left is this run's
                task = bar.add_task("train", total=cfg.steps, completed=step, losses=losses)
            else:
                bar.update(task, completed=step, losses=losses)
            lines.line(task, f"train {recipe_cls.name}", f"; {losses}")

        train(recipe, log=lambda s: bar.console.print(s, highlight=False), on_step=on_step, photos=photos)
