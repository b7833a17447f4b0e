"""Trainer for the region-wise model, and the shared trainer other learned methods reuse.

    python -m methods.rwconv.train --out train_runs/rwconv [--data DIR ...] [--steps N] ...
    torchrun --nproc_per_node 2 -m methods.rwconv.train ...     (DistributedDataParallel)

Resumes from OUT/last.pt whenever it exists. Every step draws its crops and holes from
numpy.random.default_rng([seed, rank, step]), so a resumed run continues exactly as an
uninterrupted one would; checkpoints are written to a temporary file and renamed, so a kill
at any moment leaves the previous checkpoint intact.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from PIL import Image

from inpaintbench.data.image_io import decode_rgb, list_images
from inpaintbench.masks import BUCKETS, generate_hole
from inpaintbench.metrics.pixel import pixel_metrics

from .features import load_loss_network
from .losses import correlation_loss, reconstruction_loss, style_loss
from .model import RegionWiseInpainter, RWConfig

# Photographs from Debian wallpaper packages; none is in the demo evaluation set.
DEFAULT_TRAIN_PHOTOS = [
    *(f"/usr/share/wallpapers/{n}/contents/images/2560x1600.jpg"
      for n in ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "OneStandsOut", "summer_1am", "Grey")),
    *(f"/usr/share/backgrounds/mate/nature/{n}.jpg"
      for n in ("Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "TwoWings", "Wood")),
]
DEFAULT_VAL_PHOTOS = ["/usr/share/wallpapers/Path/contents/images/2560x1600.jpg",
                      "/usr/share/backgrounds/mate/nature/Storm.jpg", "/usr/share/backgrounds/mate/nature/YellowFlower.jpg"]
MAX_SHORT_SIDE = 640  # photos are downscaled once at load; random-scale crops come from this


@dataclass
class TrainConfig:
    out: str = "train_runs/rwconv"
    data: list = field(default_factory=lambda: list(DEFAULT_TRAIN_PHOTOS))
    val_data: list = field(default_factory=lambda: list(DEFAULT_VAL_PHOTOS))
    steps: int = 20000
    batch_size: int = 8
    crop: int = 128
    val_size: int = 256
    cnum: int = 32
    region_wise: bool = True
    coarse_only: bool = False
    correlation: bool = True  # False: ablation (c)
    same_stage: bool = False  # True: ablation (d), correlation and style both on the fine composite
    corr_fraction: float = 0.1  # lambda1 makes L_c this fraction of L_r at the mean-fill reference
    style_fraction: float = 0.1
    lr: float = 1e-4
    betas: tuple = (0.5, 0.9)
    max_hole_pct: int = 40  # the paper trains on 0-40% holes
    seed: int = 0
    device: str = "cpu"
    amp: bool = True  # bf16 autocast on CUDA only
    loss_net: str = "auto"
    loss_net_weights: str | None = None
    val_every: int = 250
    ckpt_every: int = 100
    threads: int = 0
    time_limit_min: float = 0.0  # stop (with a checkpoint) after this long; 0 = no limit
    init_from: str | None = None  # shipped fp16 weights to continue from when OUT has no last.pt (fresh Adam state)

    def model_config(self) -> RWConfig:
        return RWConfig(self.cnum, self.region_wise, self.coarse_only)


def _rank() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


class PhotoPool:
    """Training photos decoded once, downscaled to MAX_SHORT_SIDE; random-scale crops + flips."""

    def __init__(self, sources: list[str]):
        files = []
        for s in sources:
            p = Path(s)
            files += list_images(p) if p.is_dir() else [p]
        missing = [str(f) for f in files if not f.is_file()]
        if missing or not files:
            raise FileNotFoundError(f"training photos not found: {missing[:3] or sources} "
                                    f"(Debian packages plasma-workspace-wallpapers and mate-backgrounds, or pass --data DIR)")
        self.files = files
        self.photos = []
        for f in files:
            img = decode_rgb(f)
            s = MAX_SHORT_SIDE / min(img.shape[:2])
            if s < 1:
                img = np.asarray(Image.fromarray(img).resize((round(img.shape[1] * s), round(img.shape[0] * s)), Image.BICUBIC))
            self.photos.append(img)

    def crop(self, rng: np.random.Generator, size: int) -> np.ndarray:
        img = self.photos[int(rng.integers(len(self.photos)))]
        h, w = img.shape[:2]
        side = int(rng.integers(size, min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        patch = Image.fromarray(img[y : y + side, x : x + side])
        if side != size:
            patch = patch.resize((size, size), Image.BICUBIC)
        patch = np.asarray(patch)
        return patch[:, ::-1] if rng.random() < 0.5 else patch


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
    return (torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(holes)[:, None].float())


def validation_set(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed held-out crops, each paired with one frozen-style hole per bucket 10-20%..50-60%."""
    pool = PhotoPool(cfg.val_data)
    rng = np.random.default_rng([cfg.seed, 999])
    imgs, holes = [], []
    for i in range(4 * len(pool.photos)):
        img = pool.crop(rng, cfg.val_size)
        for b in BUCKETS[1:]:
            imgs.append(img)
            holes.append(generate_hole(b, i, seed=12345, size=cfg.val_size))
    return (torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(np.stack(holes))[:, None].float())


def calibrate_lambdas(cfg: TrainConfig, loss_net, pool: PhotoPool) -> tuple[float, float]:
    """lambda1, lambda2 such that at the mean-fill reference (holes filled with the image's mean
    colour) L_c = corr_fraction * L_r and L_s = style_fraction * L_r."""
    rng = np.random.default_rng([cfg.seed, 424242])
    gt, hole = make_batch(pool, rng, cfg, 32, cfg.crop)
    mean = gt.mean(dim=(2, 3), keepdim=True)
    ref = gt * (1 - hole) + mean * hole
    with torch.no_grad():
        fr, fg = loss_net(ref), loss_net(gt)
        lr_ = (ref - gt).abs().mean() * 2  # in [-1, 1] units, like L_r
        lc, ls = correlation_loss(fr, fg), style_loss(fr, fg)
    return float(cfg.corr_fraction * lr_ / lc), float(cfg.style_fraction * lr_ / ls)


def compute_losses(model, loss_net, gt, hole, cfg: TrainConfig, lambdas) -> dict[str, torch.Tensor]:
    out = model(gt, hole)
    gt11 = gt * 2 - 1
    terms = {"rec": reconstruction_loss(out, gt11, two_stage=not cfg.coarse_only)}
    f_gt = loss_net(gt)
    f_c1 = loss_net((out["c1"] + 1) / 2)
    f_c2 = f_c1 if cfg.coarse_only else loss_net((out["c2"] + 1) / 2)
    if cfg.correlation:
        terms["corr"] = lambdas[0] * correlation_loss(f_c2 if cfg.same_stage else f_c1, f_gt)
    terms["style"] = lambdas[1] * style_loss(f_c2, f_gt)
    terms["total"] = sum(terms.values())
    return terms


def save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file: say which and why, never a bare traceback
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None


@torch.no_grad()
def validate(model, val, cfg: TrainConfig, device) -> dict[str, float]:
    model.eval()
    scores = {"psnr": [], "ssim": []}
    for i in range(0, len(val[0]), 8):
        gt, hole = val[0][i : i + 8].to(device), val[1][i : i + 8].to(device)
        out = model(gt, hole)
        pred = ((out["c2"] + 1) / 2).clamp(0, 1).float()
        m = pixel_metrics(pred, gt, hole)
        scores["psnr"] += m["psnr"].tolist()
        scores["ssim"] += m["ssim"].tolist()
    model.train()
    return {k: float(np.mean(v)) for k, v in scores.items()}


def export_weights(ckpt: dict, path: Path, extra: dict | None = None) -> Path:
    """fp16 state dict + everything needed to rebuild and describe the model (small enough to ship)."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
    meta = {k: ckpt[k] for k in ("config", "model_config", "step", "loss_network", "lambdas", "best_val") if k in ckpt}
    save_atomic({"format": "inpaintbench.rwconv.v1", "state_dict": state, **meta, **(extra or {})}, Path(path))
    return Path(path)


def train(cfg: TrainConfig, log=print, on_step=None) -> Path:
    """on_step(step, total, loss terms) is called on rank 0 after every optimiser step."""
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cfg.device.startswith("cuda") else "gloo")
    rank, world = _rank()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device if not cfg.device.startswith("cuda") or world == 1 else f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = RegionWiseInpainter(cfg.model_config()).to(device)
    loss_net = load_loss_network(cfg.loss_net, cfg.loss_net_weights).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    pool = PhotoPool(cfg.data)
    step, best, lambdas = 0, -math.inf, None
    last = out / "last.pt"
    if last.is_file():
        ck = load_checkpoint(last)
        if ck["model_config"] != cfg.model_config().as_dict():
            raise ValueError(f"{last} was trained with {ck['model_config']}, this run asks for {cfg.model_config().as_dict()}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, best, lambdas = ck["step"], ck.get("best_val", {}).get("psnr", -math.inf), tuple(ck["lambdas"])
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed from {last} at step {step}")
    elif cfg.init_from:
        ck = load_checkpoint(Path(cfg.init_from))
        if ck.get("model_config") != cfg.model_config().as_dict():
            raise ValueError(f"{cfg.init_from} holds {ck.get('model_config')}, this run asks for {cfg.model_config().as_dict()}")
        model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
        step, lambdas = int(ck["step"]), tuple(ck["lambdas"])
        best = ck.get("best_val", {}).get("psnr", -math.inf)
        log(f"continuing from shipped weights {cfg.init_from} at step {step} (optimiser state starts fresh)")
    if lambdas is None:
        lambdas = calibrate_lambdas(cfg, loss_net.cpu(), pool)
        loss_net.to(device)
    log(f"lambda1 (correlation) = {lambdas[0]:.4g}, lambda2 (style) = {lambdas[1]:.4g}; loss network {loss_net.name}")
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    val = validation_set(cfg) if rank == 0 and cfg.val_every else None
    per_rank = max(1, cfg.batch_size // world)
    amp = cfg.amp and device.type == "cuda"

    def checkpoint(best_val=None):
        if rank != 0:
            return
        ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "torch_rng": torch.get_rng_state(),
              "config": asdict(cfg), "model_config": cfg.model_config().as_dict(), "lambdas": list(lambdas),
              "loss_network": {"name": loss_net.name, "weights_sha256": loss_net.weights_sha256},
              "best_val": best_val or {"psnr": best}}
        save_atomic(ck, last)
        return ck

    t_start, t_last, seen = time.time(), time.time(), 0
    logf = open(out / "train_log.csv", "a", newline="") if rank == 0 else None
    valf = open(out / "val.csv", "a", newline="") if rank == 0 else None
    while step < cfg.steps:
        rng = np.random.default_rng([cfg.seed, rank, step])
        gt, hole = make_batch(pool, rng, cfg, per_rank, cfg.crop)
        gt, hole = gt.to(device), hole.to(device)
        with torch.autocast(device.type, torch.bfloat16, enabled=amp):
            terms = compute_losses(net, loss_net, gt, hole, cfg, lambdas)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        step += 1
        seen += per_rank * world
        if rank == 0 and on_step:
            on_step(step, cfg.steps, terms)
        if rank == 0:
            if step % 10 == 0:
                now = time.time()
                rate = seen / (now - t_last)
                t_last, seen = now, 0
                row = {"step": step, **{k: round(float(v.detach()), 6) for k, v in terms.items()}, "images_per_s": round(rate, 3),
                       "wall_s": round(now - t_start, 1)}
                if logf.tell() == 0:
                    csv.writer(logf).writerow(row.keys())
                csv.writer(logf).writerow(row.values())
                logf.flush()
                log(" ".join(f"{k}={v}" for k, v in row.items()))
            if val is not None and step % cfg.val_every == 0:
                v = validate(model, val, cfg, device)
                if valf.tell() == 0:
                    csv.writer(valf).writerow(["step", "psnr", "ssim"])
                csv.writer(valf).writerow([step, round(v["psnr"], 4), round(v["ssim"], 5)])
                valf.flush()
                ck = checkpoint(v if v["psnr"] > best else None)
                if v["psnr"] > best:
                    best = v["psnr"]
                    ck["best_val"] = {**v, "step": step}
                    save_atomic(ck, out / "best.pt")
                log(f"validation step {step}: psnr {v['psnr']:.3f} ssim {v['ssim']:.4f} (best {best:.3f})")
            elif step % cfg.ckpt_every == 0:
                checkpoint()
        if cfg.time_limit_min and time.time() - t_start > cfg.time_limit_min * 60:
            break
    checkpoint()
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return last


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in TrainConfig.__dataclass_fields__.values():
        default = f.default if f.default is not field and not callable(f.default_factory) else f.default_factory()
        name = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(name, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, (list, tuple)):
            p.add_argument(name, nargs="+", type=type(default[0]) if default else str, default=default)
        else:
            p.add_argument(name, type=type(default) if default is not None else str, default=default)
    p.add_argument("--export", help="write the best checkpoint as fp16 shipping weights to this path and exit")
    a = vars(p.parse_args(argv))
    export = a.pop("export")
    cfg = TrainConfig(**a)
    if export:
        src = Path(cfg.out) / "best.pt"
        export_weights(load_checkpoint(src if src.is_file() else Path(cfg.out) / "last.pt"), Path(export))
        print(f"wrote {export}")
        return
    if int(os.environ.get("RANK", 0)) != 0:  # one progress bar per job, on rank 0
        train(cfg, log=lambda s: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[losses]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("train", total=cfg.steps, losses="")

        def on_step(step, total, terms):
            bar.update(task, completed=step, losses=" ".join(f"{k} {float(v):.4f}" for k, v in terms.items()))

        train(cfg, log=lambda s: bar.console.print(s, highlight=False), on_step=on_step)


if __name__ == "__main__":
    main()
