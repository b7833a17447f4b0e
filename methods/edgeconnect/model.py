"""EdgeConnect (Nazeri et al., ICCVW 2019), in PyTorch.

Two generators of the same shape (REFERENCE.md s2): 7x7 conv, two stride-2 4x4 convs, 8
residual blocks with dilation 2, two 4x4 transposed convs, 7x7 conv; instance norm, ReLU,
reflection padding. The edge generator (spectral norm, sigmoid output) completes the Canny
edge map of the grayscale image; the inpainting generator (tanh output mapped to [0, 1])
fills colours given the completed edges. Module names follow knazeri/edge-connect so its
released checkpoints load unchanged. As in that code, hole pixels are filled with 1 (white)
on input and `hole` (1 = missing) is its `masks`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
from skimage.feature import canny

GRAY = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray, which the reference uses


@dataclass(frozen=True)
class EdgeConnectConfig:
    width: int = 64  # channels of the first conv; 64 = paper (256 in the residual blocks)
    blocks: int = 8
    sigma: float = 2.0  # Canny's Gaussian

    def as_dict(self) -> dict:
        return asdict(self)


def _sn(module: nn.Module, on: bool) -> nn.Module:
    return nn.utils.spectral_norm(module) if on else module


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, dilation: int = 2, sn: bool = False):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation), _sn(nn.Conv2d(dim, dim, 3, dilation=dilation, bias=not sn), sn),
            nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), _sn(nn.Conv2d(dim, dim, 3, bias=not sn), sn), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class Generator(nn.Module):
    def __init__(self, cin: int, cout: int, width: int, blocks: int, sn: bool):
        super().__init__()
        c = width
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), _sn(nn.Conv2d(cin, c, 7), sn), nn.InstanceNorm2d(c), nn.ReLU(True),
            _sn(nn.Conv2d(c, 2 * c, 4, 2, 1), sn), nn.InstanceNorm2d(2 * c), nn.ReLU(True),
            _sn(nn.Conv2d(2 * c, 4 * c, 4, 2, 1), sn), nn.InstanceNorm2d(4 * c), nn.ReLU(True))
        self.middle = nn.Sequential(*[ResnetBlock(4 * c, 2, sn) for _ in range(blocks)])
        self.decoder = nn.Sequential(
            _sn(nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1), sn), nn.InstanceNorm2d(2 * c), nn.ReLU(True),
            _sn(nn.ConvTranspose2d(2 * c, c, 4, 2, 1), sn), nn.InstanceNorm2d(c), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(c, cout, 7))
        for m in self.modules():  # the reference's init_weights('normal', 0.02)
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                w = m.weight_orig if hasattr(m, "weight_orig") else m.weight
                nn.init.normal_(w, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.decoder(self.middle(self.encoder(x)))


class EdgeConnect(nn.Module):
    def __init__(self, config: EdgeConnectConfig = EdgeConnectConfig()):
        super().__init__()
        self.config = config
        self.edge_generator = Generator(3, 1, config.width, config.blocks, sn=True)
        self.inpaint_generator = Generator(4, 3, config.width, config.blocks, sn=False)

    def edges(self, gray: torch.Tensor) -> torch.Tensor:
        """Canny edges (scikit-image, sigma from the config) of (B,1,H,W) grayscale in [0, 1]."""
        g = gray[:, 0].detach().float().cpu().numpy()
        # mode named: scikit-image 0.27 warns that skimage2's canny pads with 'nearest', and the
        # reference's edges (and the committed numbers) are the zero-padded ones
        e = np.stack([canny(x, sigma=self.config.sigma, mode="constant") for x in g]).astype(np.float32)
        return torch.from_numpy(e)[:, None].to(gray.device, gray.dtype)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """image in [0, 1] (hole pixels ignored), hole 1 = missing. Returns the grayscale image,
        its Canny edges outside the hole, the edge generator's map, the merged edges and the
        inpainted image, all in [0, 1]."""
        if image.shape[-1] % 4 or image.shape[-2] % 4:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by 4, which the two downsamplings need")
        image = image * (1 - hole)
        gray = (image * image.new_tensor(GRAY).view(1, 3, 1, 1)).sum(1, keepdim=True)
        # Edges of the masked image, kept only outside the hole: the reference computes Canny
        # on the full image and then masks it, which peeks at pixels inside the hole that
        # shape the edges near its border. The difference is confined to a sigma-wide rim.
        edges = self.edges(gray) * (1 - hole)
        edge_in = torch.cat([gray * (1 - hole) + hole, edges, hole], 1)
        edge_pred = torch.sigmoid(self.edge_generator(edge_in))
        merged = edge_pred * hole + edges * (1 - hole)
        out = self.inpaint_generator(torch.cat([image + hole, merged], 1))
        return {"gray": gray, "edges": edges, "edge_pred": edge_pred, "merged_edges": merged, "output": (torch.tanh(out) + 1) / 2}


class PatchDiscriminator(nn.Module):
    """EdgeConnect's 70x70 PatchGAN with spectral norm; returns sigmoid scores and every
    layer's features (for the feature-matching loss)."""

    def __init__(self, cin: int):
        super().__init__()
        spec = [(cin, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1)]
        for i, (a, b, s) in enumerate(spec, 1):
            setattr(self, f"conv{i}", nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(a, b, 4, s, 1, bias=False)), nn.LeakyReLU(0.2, True)))
        self.conv5 = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(512, 1, 4, 1, 1, bias=False)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight_orig, 0.0, 0.02)

    def forward(self, x):
        feats = []
        for i in range(1, 6):
            x = getattr(self, f"conv{i}")(x)
            feats.append(x)
        return torch.sigmoid(x), feats
