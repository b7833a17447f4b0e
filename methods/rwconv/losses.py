"""The paper's losses, Eqs. (3)-(6), with normalisations that do not depend on batch size or
resolution.

The official code sums (rec: over every pixel; correlation: G = F F^T / C^2 summed over all
HW x HW pairs; style: G = F^T F / (C H W) summed over C x C) and weights them 1e-5 and 1e-3
for caffe-VGG16 activations (0-255 BGR input). Those sums make the effective weights scale
with batch size and image size, and torchvision's VGG16 or EfficientNet-Lite0 give
activations of a different magnitude, so the numbers cannot carry over. Here every term is a
mean:
  L_r = mean|I_p1 - I_g| + mean|I_p2 - I_g|                (images in [-1, 1]; hole_weight below)
  L_c = mean_ij |f_ij(I_c1) - f_ij(I_g)|,  f = F F^T / C    (pool2-level features, n x n)
  L_s = sum_p mean |G_p(I_c2) - G_p(I_g)|, G_p = F^T F / (h w)  (pool1-3, c x c)
and lambda1, lambda2 are set (see `calibrate` in train.py and the model card) so that, for
the loss network in use, each auxiliary term starts at a fixed fraction of L_r on real
photos; that fraction, not a magic constant, is the setting written into the checkpoint.
"""
from __future__ import annotations

import torch


def gram_positions(f: torch.Tensor) -> torch.Tensor:
    """Eq. (2): n x n correlation between positions, f (B,C,h,w) -> (B,n,n)."""
    b, c = f.shape[:2]
    x = f.reshape(b, c, -1)
    return torch.bmm(x.transpose(1, 2), x) / c


def gram_channels(f: torch.Tensor) -> torch.Tensor:
    """Style Gram matrix between channels, (B,C,h,w) -> (B,C,C)."""
    b, c = f.shape[:2]
    x = f.reshape(b, c, -1)
    return torch.bmm(x, x.transpose(1, 2)) / x.shape[-1]


def reconstruction_loss(out: dict, gt11: torch.Tensor, two_stage: bool = True, hole: torch.Tensor | None = None,
                        hole_weight: float = 1.0) -> torch.Tensor:
    """Eq. (3) over the whole image, as the paper. hole_weight > 1 (not the paper) counts each hole
    pixel that many times and is still divided by the pixel count: the paper's L_r spends most of
    its gradient on known pixels the composite throws away (60-90% of a 10-40% hole image), and
    methods.diagnostics.edge_profile shows the cost at the hole's edge."""
    w = 1.0 if hole_weight == 1 else 1 + (hole_weight - 1) * hole
    loss = ((out["p1"] - gt11).abs() * w).mean()
    if two_stage:
        loss = loss + ((out["p2"] - gt11).abs() * w).mean()
    return loss


def seam_loss(composite: torch.Tensor, gt11: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Not the paper (trainer setting `seam_weight`, default 0): mean over the 4-neighbour pixel
    pairs with at least one pixel in the hole of |(C_p - C_q) - (G_p - G_q)|, C the composite, G the
    ground truth, both in [-1, 1]. A pair across the hole's border compares the fill with the known
    pixel next to it, which L_r never does (it scores the raw output, whose known half the
    composite throws away): that is where methods.diagnostics.edge_profile finds the gap to a diffusion fill.
    Pairs inside the hole score the fill's own gradients, so detail it invents where the truth's
    cannot be known costs here as it does in PSNR and SSIM. Divided by the number of such pairs,
    so it does not depend on batch size, image size or hole ratio."""
    total, pairs = composite.new_zeros(()), composite.new_zeros(())
    for dim in (2, 3):
        dc, dg = torch.diff(composite, dim=dim), torch.diff(gt11, dim=dim)
        touch = (hole.narrow(dim, 1, hole.shape[dim] - 1) + hole.narrow(dim, 0, hole.shape[dim] - 1)).clamp(max=1)
        total = total + ((dc - dg).abs() * touch).sum()
        pairs = pairs + touch.sum() * composite.shape[1]
    return total / pairs.clamp(min=1)


def correlation_loss(feats_c: list[torch.Tensor], feats_gt: list[torch.Tensor]) -> torch.Tensor:
    return (gram_positions(feats_c[1]) - gram_positions(feats_gt[1])).abs().mean()


def style_loss(feats_c: list[torch.Tensor], feats_gt: list[torch.Tensor]) -> torch.Tensor:
    return sum((gram_channels(a) - gram_channels(b)).abs().mean() for a, b in zip(feats_c, feats_gt))
