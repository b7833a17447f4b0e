"""Where in the hole a method's error is: by distance from the nearest known pixel, on the
trainers' held-out crops.

Small holes are mostly edge: in the validation holes (10-60%) about 12% of hole pixels touch a
known pixel and 29% lie within 3 px of one. A diffusion method continues the border exactly and
is best there; a network that must also reproduce the known region (the paper's L_r is over the
whole image) can leave a seam. This table says which part of the hole a PSNR gap comes from:

    python -m methods.diagnostics.edge_profile rwconv biharmonic navier-stokes rwconv=OTHER.pt   # PSNR, SSIM, grain per band

Bands are Euclidean distance to the nearest known pixel (scipy's distance transform of the hole),
PSNR per band pools the squared error of all its pixels x channels (composite, not quantised).
Written here beside methods/diagnostics/colour_bias.py, for the same reason: a diagnosis for training, not a
benchmark number.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt

from inpaintbench.errors import one_line_errors
from inpaintbench.metrics.pixel import ssim_map
from methods.diagnostics.colour_bias import composites, parse_diagnosis_args

#: (low, high] in pixels; 1 = touching a known pixel (4- or 8-neighbour: 1 or 1.41)
BANDS = ((0.0, 1.5), (1.5, 3.5), (3.5, 7.5), (7.5, 15.5), (15.5, math.inf))


def band_label(lo: float, hi: float) -> str:
    """In whole pixels: the nearest integer distance a band holds is floor(lo) + 1 (1.41 counts as 1)."""
    first = math.floor(lo) + 1
    if hi == math.inf:
        return f"{first}+ px"
    return f"{first} px" if first == math.floor(hi) else f"{first}-{math.floor(hi)} px"


def distance_to_known(hole: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W): per hole pixel its distance to the nearest known pixel, 0 on known pixels."""
    return torch.from_numpy(np.stack([distance_transform_edt(h[0].numpy() > 0.5) for h in hole]))[:, None].float()


def laplacian(x: torch.Tensor) -> torch.Tensor:
    """4-neighbour Laplacian per channel (edges replicated): the pixel-scale detail of an image."""
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=x.dtype).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, [1] * 4, mode="replicate"), k, groups=x.shape[1])


def profile(out: torch.Tensor, gt: torch.Tensor, hole: torch.Tensor, bands=BANDS,
            dist: torch.Tensor | None = None) -> list[dict]:
    """Per band: share of hole pixels, mse and PSNR over its pixels x channels, the mean of the
    suite's SSIM map (channel-averaged, as `ssim_hole` is) over its pixels, and `grain`, the rms
    Laplacian of `out` over its pixels x channels. `dist`: distance_to_known(hole), when several
    outputs are profiled on the same holes."""
    dist = distance_to_known(hole) if dist is None else dist
    se = ((out - gt) ** 2).mean(1, keepdim=True)
    smap = ssim_map(out.double(), gt.double()).mean(1, keepdim=True)
    lap2 = (laplacian(out) ** 2).mean(1, keepdim=True)
    rows = []
    for lo, hi in bands:
        sel = (dist > lo) & (dist <= hi)
        mse = float(se[sel].mean()) if sel.any() else float("nan")
        rows.append({"band": band_label(lo, hi), "share": float(sel.sum() / (hole > 0.5).sum()), "mse": mse,
                     "psnr": 10 * math.log10(1 / mse) if mse > 0 else math.inf,
                     "ssim": float(smap[sel].mean()) if sel.any() else float("nan"),
                     "grain": math.sqrt(float(lap2[sel].mean())) if sel.any() else float("nan")})
    return rows


@one_line_errors
def main(argv=None):
    a, methods, gt, hole = parse_diagnosis_args("python -m methods.diagnostics.edge_profile", __doc__, argv)
    dist = distance_to_known(hole)
    shares = profile(gt, gt, hole, BANDS, dist)
    print(f"{len(gt)} held-out crops ({', '.join(a.val_data)}), holes 10-60%; PSNR of hole pixels by distance to the "
          f"nearest known pixel\n")
    header = ("| method | " + " | ".join(f"{r['band']} ({r['share']:.0%})" for r in shares) + " | whole hole |\n"
              + "|---|" + "---|" * (len(shares) + 1))
    # the last band, (0, inf], is the whole hole
    profiles = {spec: profile(composites(method, gt, hole), gt, hole, BANDS + ((0.0, math.inf),), dist)
                for spec, method in methods.items()}
    print(header)
    for spec, rows in profiles.items():
        print(f"| {spec} | " + " | ".join(f"{r['psnr']:.2f}" for r in rows) + " |")
    print("\nSSIM of the same pixels (the suite's SSIM map, 11x11 Gaussian windows, sigma 1.5, so a band's value also "
          "sees its neighbours)\n")
    print(header)
    for spec, rows in profiles.items():
        print(f"| {spec} | " + " | ".join(f"{r['ssim']:.4f}" for r in rows) + " |")
    print("\nGrain: rms 4-neighbour Laplacian of the composite over the same pixels, in 1/255 (the ground truth's "
          "first). Near the known region, more than a smooth fill has is a step where the fill meets it; further in, "
          "detail no method can know (sensor grain, fine texture) costs PSNR and SSIM when a method invents its own, "
          "so a fill with less grain than the truth can still score better\n")
    print(header)
    for spec, rows in {"ground truth": profile(gt, gt, hole, BANDS + ((0.0, math.inf),), dist), **profiles}.items():
        print(f"| {spec} | " + " | ".join(f"{r['grain'] * 255:.2f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
