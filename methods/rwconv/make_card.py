"""Writes weights/MODEL_CARD.md from a training run's logs and the exported weights, so the card's
numbers are the run's numbers. `python -m methods.rwconv.make_card TRAIN_DIR [--wall-note TEXT]`"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import torch

from inpaintbench.networks import sha256_of

from .method import SHIPPED


def _photo_name(path: str) -> str:
    p = Path(path)
    return p.parents[2].name if "/wallpapers/" in path else p.stem  # plasma: NAME/contents/images/WxH.jpg


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("train_dir", type=Path)
    p.add_argument("--weights", type=Path, default=SHIPPED)
    p.add_argument("--hardware", default="2-core x86-64 CPU, no GPU (torch CPU threads: 2), shared with development work")
    a = p.parse_args(argv)
    blob = torch.load(a.weights, map_location="cpu", weights_only=False)
    cfg, mc = blob["config"], blob["model_config"]
    n_params = sum(v.numel() for v in blob["state_dict"].values())
    val = list(csv.DictReader(open(a.train_dir / "val.csv")))
    log = list(csv.DictReader(open(a.train_dir / "train_log.csv")))
    wall_h = float(log[-1]["wall_s"]) / 3600 if log else 0
    rows = "\n".join(f"| {r['step']} | {float(r['psnr']):.3f} | {float(r['ssim']):.4f} |" for r in val)
    text = f"""# rwconv shipped weights

`methods/rwconv/weights/rwconv.pt`: sha256 `{sha256_of(a.weights)}`, {a.weights.stat().st_size / 1e6:.1f} MB, fp16.

| | |
|---|---|
| architecture | region-wise coarse-to-fine model, `RWConfig({mc})`, {n_params:,} parameters |
| width | cnum {mc['cnum']} (the paper uses 32: ~4x the FLOPs, too slow to train on this machine's CPU in one session) |
| training step of these weights | {blob['step']} (best validation PSNR of the run; see the curve) |
| batch x crop | {cfg['batch_size']} x {cfg['crop']}x{cfg['crop']} random-scale crops with flips, from photos downscaled to 640 px short side |
| holes | the inpaintbench generator at 256-px stroke scale, cropped to the training crop; buckets up to {cfg['max_hole_pct']}% (paper: 0-40%), 10% of strokes replaced by boxes |
| optimiser | Adam lr {cfg['lr']} betas {tuple(cfg['betas'])} (paper: lr 1e-4; doubled for the short CPU budget) |
| losses | L_r + λ1 L_c (stage-1 composite, pool2-level position Gram) + λ2 L_s (stage-2 composite, 3-level channel Gram); λ1 = {blob['lambdas'][0]:.4g}, λ2 = {blob['lambdas'][1]:.4g}, derived so each term is {cfg['corr_fraction']} / {cfg['style_fraction']} of L_r at the mean-fill reference (methods/rwconv/losses.py) |
| loss network | {blob['loss_network']['name']} (sha256 {blob['loss_network']['weights_sha256'][:16]}...): VGG16 weights are not available offline here; EfficientNet-Lite0 taps at strides 2/4/8 stand in for pool1-3. Not the FID Inception. |
| training data | {len(cfg['data'])} photographs from Debian `plasma-workspace-wallpapers` and `mate-backgrounds`: {', '.join(_photo_name(d) for d in cfg['data'])}. None is in the demo evaluation set. |
| validation data | held-out photos {', '.join(_photo_name(d) for d in cfg['val_data'])}: 4 crops each at {cfg['val_size']} px x 5 holes (buckets 10-20% ... 50-60%) |
| hardware | {a.hardware} |
| wall time | {wall_h:.2f} h for {log[-1]['step'] if log else 0} steps in this run |
| seed | {cfg['seed']} |

Reproduce: `python -m methods.rwconv.train --out {a.train_dir} --cnum {mc['cnum']} --crop {cfg['crop']} --batch-size {cfg['batch_size']} --lr {cfg['lr']}`,
then `python -m methods.rwconv.train --out {a.train_dir} --cnum {mc['cnum']} --export methods/rwconv/weights/rwconv.pt`.
Continue training from these weights (fresh Adam state): add `--init-from methods/rwconv/weights/rwconv.pt --steps N`.

## Validation curve (composite c2, whole image, held-out photos)

| step | PSNR | SSIM |
|---|---|---|
{rows}
"""
    out = a.weights.with_name("MODEL_CARD.md")
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
