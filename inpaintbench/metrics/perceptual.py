"""Per-image deep-feature metrics: perceptual error and LPIPS.

Perceptual error (Johnson et al. 2016, as the paper cites): sum over layers of the mean
squared difference of feature maps, ||phi_j(x) - phi_j(y)||^2 / (C_j H_j W_j). With VGG16
ImageNet weights present it uses pool1-3 as the paper does (`perceptual_vgg16`); otherwise the
TF Inception's pool0, pool1, mixed_2 (`perceptual_inception`). The two have different names
and are never put in one column.

LPIPS goes through the `lpips` package (v0.1 linear heads, inputs in [-1,1]) and only when its
backbone's ImageNet weights are found: in the torch cache, or (VGG16) the file given with
--vgg-weights. The package is asked for a random trunk and the weights are loaded here from the file
found: its own loader goes through torchvision, which downloads what the cache lacks and cannot take
a file the user names.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

from ..errors import InputError
from ..networks import NETWORKS, locate, sha256_of, unloadable, warn_if_renamed


def perceptual_error(feats_x: list[torch.Tensor], feats_y: list[torch.Tensor]) -> torch.Tensor:
    return sum(((a.double() - b.double()) ** 2).mean(dim=(1, 2, 3)) for a, b in zip(feats_x, feats_y))


def _backbone(net: str) -> str:
    return "alexnet" if net == "alex" else "vgg16"


class LPIPSMetric(torch.nn.Module):
    def __init__(self, net: str = "alex", backbone_weights: str | Path | None = None):
        """backbone_weights: a torchvision ImageNet weights file for the trunk (default: the torch cache)."""
        super().__init__()
        import lpips

        self.net_name = net
        backbone = locate(_backbone(net), backbone_weights)
        if backbone is None:
            raise InputError(lpips_unavailable_reason(net, backbone_weights))
        with warnings.catch_warnings():
            # lpips builds its trunk with torchvision's `pretrained=`, deprecated since 0.13: notices
            # a run that no user can act on
            warnings.filterwarnings("ignore", message=r"(The parameter 'pretrained'|Arguments other than a weight enum)",
                                    category=UserWarning)
            self.model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False).eval()
        # lpips keeps torchvision's `features` layers under their indices, split into slices:
        # slice2.4.weight is features.4.weight
        trunk = self.model.net
        try:  # the load too: a cut-short AlexNet copy ended the run in torch's pickle traceback
            state = torch.load(backbone, map_location="cpu", weights_only=True)
            trunk.load_state_dict({k: state[f"features.{k.split('.', 1)[1]}"] for k in trunk.state_dict()})
        except Exception as e:
            raise unloadable(backbone, f"torchvision {_backbone(net)} weights", e) from None
        warn_if_renamed(backbone)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.weights = {"backbone": str(backbone), "backbone_sha256": sha256_of(backbone),
                        "linear_heads": str(locate(f"lpips-lin-{net}"))}

    def forward(self, x01: torch.Tensor, y01: torch.Tensor) -> torch.Tensor:
        return self.model(x01.float() * 2 - 1, y01.float() * 2 - 1).flatten().double()


def lpips_unavailable_reason(net: str, backbone_weights: str | Path | None = None) -> str | None:
    backbone = _backbone(net)
    if locate(backbone, backbone_weights) is None:
        if backbone_weights:
            return f"{backbone} weights {backbone_weights} not found"
        return f"{backbone} ImageNet weights absent: {NETWORKS[backbone].how_to_provide}"
    if locate(f"lpips-lin-{net}") is None:
        return NETWORKS[f"lpips-lin-{net}"].how_to_provide
    return None
