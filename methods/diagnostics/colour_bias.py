"""How much of a method's error is the wrong colour in the hole, on held-out wallpaper crops.

A learned model trained on a few photos of one palette learns that palette as a prior and fills
holes with it; a diffusion method copies the colours around the hole. This splits the error:

- `bias RGB`: signed mean error over all hole pixels, per channel (a prior shows here);
- `hole colour error`: per image and channel, the mean signed error over the hole, then the mean
  of its absolute value (what a per-hole colour correction could remove);
- `PSNR` of the composite, and `PSNR, colour oracle`: the same after subtracting each image's
  hole colour error inside its hole, an upper bound on what fixing colour alone gains.

    python -m methods.diagnostics.colour_bias rwconv biharmonic rwconv=methods/rwconv/weights/ablations/X.pt

Each argument is a method name, or NAME=WEIGHTS for a learned method with other weights; NAME+poisson
(also with =WEIGHTS) is that method's fill Poisson-blended, as `inpaintbench run --blend poisson`,
NAME+hflip its self-ensemble (`--self-ensemble hflip`), NAME+hflip+poisson both.
Written here rather than in inpaintbench/metrics: it is a diagnosis for training methods, on the
trainers' held-out crops, not a benchmark number. The default crops are the three wallpapers the
trainers validated on alone until more photo sets came (photos.WALLPAPER_VAL_PHOTOS), kept so the
model card's tables stay comparable down their history; `--val-data` takes any others.
"""
from __future__ import annotations

import argparse

import torch

from inpaintbench.errors import one_line_errors
from inpaintbench.metrics.pixel import pixel_metrics
from inpaintbench.registry import create
from inpaintbench.runner import finished_fill, split_name
from methods.training.photos import WALLPAPER_VAL_PHOTOS, found_photos
from methods.training.trainer import TrainConfig, validation_set


def hole_colour_error(output: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """(B,3): mean signed error of each image's hole pixels, per channel."""
    return ((output - target) * hole).sum(dim=(2, 3)) / hole.sum(dim=(2, 3)).clamp(min=1)


def colour_oracle(output: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    return (output - hole_colour_error(output, target, hole)[..., None, None] * hole).clamp(0, 1)


def composites(method, gt: torch.Tensor, hole: torch.Tensor, batch: int = 10) -> torch.Tensor:
    """`method` (anything with .inpaint) on gt/hole, composited, not quantised."""
    outs = []
    with torch.no_grad():
        for i in range(0, len(gt), batch):
            g, h = gt[i : i + batch], hole[i : i + batch]
            outs.append(method.inpaint(g * (1 - h), h).float().cpu().clamp(0, 1))
    return torch.cat(outs) * hole + gt * (1 - hole)


class Finished:
    """A method run as `inpaintbench run --self-ensemble/--blend` runs it (runner.finished_fill)."""

    def __init__(self, method, name: str, blend: str, self_ensemble: str):
        self.method, self.name, self.blend, self.self_ensemble = method, name, blend, self_ensemble

    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        return finished_fill(self.method, masked, hole, None, self.name, self.blend, self.self_ensemble)


def create_spec(spec: str):
    """A method from NAME or NAME=WEIGHTS, where NAME may end in +hflip and/or +poisson."""
    name, _, weights = spec.partition("=")
    parts = split_name(name)
    made = create(parts["method"], **({"weights": weights} if weights else {}))
    if parts["blend"] == parts["self_ensemble"] == "none":
        return made
    return Finished(made, parts["method"], parts["blend"], parts["self_ensemble"])


def measure(method, gt: torch.Tensor, hole: torch.Tensor, batch: int = 10) -> dict[str, float]:
    """Composite of `method` on gt/hole, split as the module says."""
    out = composites(method, gt, hole, batch)
    err = hole_colour_error(out, gt, hole)
    bias = ((out - gt) * hole).sum(dim=(0, 2, 3)) / hole.sum()
    return {"bias_r": float(bias[0]), "bias_g": float(bias[1]), "bias_b": float(bias[2]),
            "hole_colour_error": float(err.abs().mean()),
            "psnr": float(pixel_metrics(out, gt, hole)["psnr"].mean()),
            "psnr_colour_oracle": float(pixel_metrics(colour_oracle(out, gt, hole), gt, hole)["psnr"].mean())}


def parse_diagnosis_args(prog: str, doc: str, argv=None) -> tuple[argparse.Namespace, dict, torch.Tensor, torch.Tensor]:
    """The command line every diagnosis here shares: methods as NAME or NAME=WEIGHTS (each made
    here, so a wrong name or file stops it before any is measured), and the held-out crops (gt,
    hole) they are measured on."""
    p = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("methods", nargs="+", help="NAME or NAME=WEIGHTS")
    p.add_argument("--val-data", nargs="+", default=list(WALLPAPER_VAL_PHOTOS),
                   help="held-out photos (default: the three wallpapers of the model card's tables)")
    a = p.parse_args(argv)
    found_photos(a.val_data, "validation", "--val-data")  # else named "training photos", to be passed as --data
    methods = {spec: create_spec(spec) for spec in a.methods}
    gt, hole = validation_set(TrainConfig(val_data=a.val_data))
    return a, methods, gt, hole


@one_line_errors
def main(argv=None):
    a, methods, gt, hole = parse_diagnosis_args("python -m methods.diagnostics.colour_bias", __doc__, argv)
    print(f"{len(gt)} held-out crops ({', '.join(a.val_data)}), holes 10-60%\n")
    print("| method | bias R | bias G | bias B | hole colour error | PSNR | PSNR, colour oracle |")
    print("|---|---|---|---|---|---|---|")
    for spec, method in methods.items():
        r = measure(method, gt, hole)
        print(f"| {spec} | {r['bias_r']:+.4f} | {r['bias_g']:+.4f} | {r['bias_b']:+.4f} | {r['hole_colour_error']:.4f} "
              f"| {r['psnr']:.2f} | {r['psnr_colour_oracle']:.2f} |")


if __name__ == "__main__":
    main()
