"""Partial convolutions and the PConv U-Net (Liu et al., ECCV 2018), in PyTorch.

The layer follows NVIDIA/partialconv (`multi_channel=True`, REFERENCE.md s2): the mask has
as many channels as the features it accompanies, because in the decoder an upsampled, mostly
filled mask is concatenated with a skip mask that still has holes. The U-Net follows
naoto0804/pytorch-inpainting-with-partial-conv, so that repository's checkpoints load (see
`PConvRecipe.from_foreign`). Inside, `valid` is the paper's M (1 = known); callers pass `hole`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    return (x - x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)


def imagenet_unnormalize(x: torch.Tensor) -> torch.Tensor:
    return x * x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1) + x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)


@dataclass(frozen=True)
class PConvConfig:
    width: int = 64  # channels of the first layer; 64 = paper
    layers: int = 7  # encoder depth; images must be multiples of 2**layers

    def as_dict(self) -> dict:
        return asdict(self)


class PartialConv2d(nn.Module):
    """x' = W^T (X * M) * sum(1)/sum(M) + b where sum(M) > 0, else 0; M' = 1 where sum(M) > 0.

    sum(1) = C_in * k * k is the window size; sum(M) counts the valid inputs under the window
    over all input channels.
    """

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, bias: bool = False):
        super().__init__()
        self.input_conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=bias)
        nn.init.kaiming_normal_(self.input_conv.weight, a=0, mode="fan_in")
        if bias:
            nn.init.zeros_(self.input_conv.bias)
        self.window = cin * k * k

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        conv = self.input_conv
        with torch.no_grad():
            ones = torch.ones(1, x.shape[1], *conv.kernel_size, device=x.device, dtype=valid.dtype)
            count = F.conv2d(valid, ones, stride=conv.stride, padding=conv.padding)
            update = count.clamp(0, 1)
            ratio = self.window / (count + 1e-8) * update
        raw = F.conv2d(x * valid, conv.weight, None, conv.stride, conv.padding)
        out = raw * ratio
        if conv.bias is not None:
            out = out + conv.bias.view(1, -1, 1, 1)
        return out * update, update.expand(-1, out.shape[1], -1, -1)


class PCBActiv(nn.Module):
    """Partial conv -> BatchNorm -> ReLU (encoder) or LeakyReLU(0.2) (decoder)."""

    def __init__(self, cin, cout, k, stride=1, bn=True, activ="relu", bias=False):
        super().__init__()
        self.conv = PartialConv2d(cin, cout, k, stride, bias)
        if bn:
            self.bn = nn.BatchNorm2d(cout)
        self.activ = activ

    def forward(self, x, valid):
        x, valid = self.conv(x, valid)
        if hasattr(self, "bn"):
            x = self.bn(x)
        if self.activ == "relu":
            x = F.relu(x)
        elif self.activ == "leaky":
            x = F.leaky_relu(x, 0.2)
        return x, valid


class PConvUNet(nn.Module):
    """7 partial-conv encoder layers (7x7, 5x5, 5x5, then 3x3, stride 2) and a decoder of
    nearest x2 upsampling + skip concatenation (features and masks) + 3x3 partial conv."""

    def __init__(self, config: PConvConfig = PConvConfig()):
        super().__init__()
        self.config = config
        c, n = config.width, config.layers
        widths = [3] + [min(c * 2**i, 8 * c) for i in range(n)]  # 64, 128, 256, 512, 512, ...
        kernels = [7, 5, 5] + [3] * (n - 3)
        for i in range(1, n + 1):
            setattr(self, f"enc_{i}", PCBActiv(widths[i - 1], widths[i], kernels[i - 1], 2, bn=i != 1))
        for i in range(n, 1, -1):
            setattr(self, f"dec_{i}", PCBActiv(widths[i] + widths[i - 1], widths[i - 1], 3, activ="leaky"))
        self.dec_1 = PCBActiv(widths[1] + 3, 3, 3, bn=False, activ=None, bias=True)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """image in [0, 1], hole (B,1,H,W) 1 = missing -> prediction in ImageNet-normalised units
        (as the reference implementation trains it); `imagenet_unnormalize` maps it back to [0, 1]."""
        n = self.config.layers
        if image.shape[-1] % 2**n or image.shape[-2] % 2**n:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by {2**n}, which {n} stride-2 layers need")
        valid = (1 - hole).expand(-1, 3, -1, -1)
        h = imagenet_normalize(image) * valid
        feats, masks = [h], [valid]
        for i in range(1, n + 1):
            h, valid = getattr(self, f"enc_{i}")(h, valid)
            feats.append(h)
            masks.append(valid)
        for i in range(n, 0, -1):
            h = torch.cat([F.interpolate(h, scale_factor=2, mode="nearest"), feats[i - 1]], 1)
            valid = torch.cat([F.interpolate(valid, scale_factor=2, mode="nearest"), masks[i - 1]], 1)
            h, valid = getattr(self, f"dec_{i}")(h, valid)
        return h

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and getattr(self, "freeze_encoder_bn", False):  # the paper's fine-tuning phase
            for name, m in self.named_modules():
                if isinstance(m, nn.BatchNorm2d) and name.startswith("enc_"):
                    m.eval()
        return self
