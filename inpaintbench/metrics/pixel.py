"""Per-image pixel metrics on batches, whole image and hole only.

Written in torch rather than calling scikit-image per image so that one batched pass on the
chosen device serves every image; tests hold every value against scikit-image to 1e-6.
"""
from __future__ import annotations


import torch

from ..protocol import PROTOCOL

SSIM_SIGMA, SSIM_TRUNCATE, SSIM_K = 1.5, 3.5, (0.01, 0.03)


def _gauss_1d(dtype, device) -> torch.Tensor:
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    k = torch.exp(-0.5 * (x / SSIM_SIGMA) ** 2)
    return k / k.sum()


def _symmetric_pad(x: torch.Tensor, r: int) -> torch.Tensor:
    # scipy.ndimage's 'reflect' (d c b a | a b c d), which torch's padding modes lack.
    def idx(n):
        return torch.cat([torch.arange(r - 1, -1, -1), torch.arange(n), torch.arange(n - 1, n - 1 - r, -1)]).to(x.device)
    return x.index_select(-1, idx(x.shape[-1])).index_select(-2, idx(x.shape[-2]))


def ssim_map(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """(B,C,H,W) -> (B,C,H,W) SSIM map with scikit-image's conventions (see Protocol)."""
    k = _gauss_1d(x.dtype, x.device)
    r = (k.numel() - 1) // 2
    h, w = x.shape[-2:]

    def blur(t):
        # the separable Gaussian as sums of shifted slices, one direction then the other: on a CPU
        # 3x faster than float64 depthwise conv2d (which has no fast kernel), the same values
        t = _symmetric_pad(t, r)
        t = sum(k[i] * t[..., i : i + w] for i in range(k.numel()))
        return sum(k[i] * t[..., i : i + h, :] for i in range(k.numel()))

    ux, uy = blur(x), blur(y)
    vx = blur(x * x) - ux * ux
    vy = blur(y * y) - uy * uy
    vxy = blur(x * y) - ux * uy
    c1, c2 = (SSIM_K[0] * data_range) ** 2, (SSIM_K[1] * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def psnr_from_mse(mse: torch.Tensor) -> torch.Tensor:
    """PSNR in dB under the protocol's data range and MSE floor (a perfect match is finite)."""
    return 10 * torch.log10(PROTOCOL.data_range**2 / mse.clamp_min(PROTOCOL.psnr_mse_floor))


def pixel_metrics(output: torch.Tensor, target: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
    """output/target (B,3,H,W) in [0,1], hole (B,1,H,W) {0,1}; each value is a (B,) float64 tensor."""
    x, y, m = output.double(), target.double(), hole.double()
    c = x.shape[1]
    diff = x - y
    n_hole = m.sum(dim=(1, 2, 3)) * c
    l1 = diff.abs().mean(dim=(1, 2, 3))
    l2 = (diff * diff).mean(dim=(1, 2, 3))
    l1_hole = (diff.abs() * m).sum(dim=(1, 2, 3)) / n_hole
    l2_hole = (diff * diff * m).sum(dim=(1, 2, 3)) / n_hole
    smap = ssim_map(x, y, PROTOCOL.data_range).mean(dim=1, keepdim=True)
    r = (_gauss_1d(x.dtype, x.device).numel() - 1) // 2
    ssim = smap[..., r:-r, r:-r].mean(dim=(1, 2, 3))
    ssim_hole = (smap * m).sum(dim=(1, 2, 3)) / m.sum(dim=(1, 2, 3))
    return {
        "l1": l1, "l2": l2, "psnr": psnr_from_mse(l2), "ssim": ssim,
        "l1_hole": l1_hole, "l2_hole": l2_hole, "psnr_hole": psnr_from_mse(l2_hole), "ssim_hole": ssim_hole,
    }
