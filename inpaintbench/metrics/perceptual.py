"""Per-image deep-feature metrics: perceptual error and LPIPS.

Perceptual error (Johnson et al. 2016, as the paper cites): sum over layers of the mean
squared difference of feature maps, ||phi_j(x) - phi_j(y)||^2 / (C_j H_j W_j). With VGG16
ImageNet weights present it uses pool1-3 as the paper does (`perceptual_vgg16`); otherwise the
TF Inception's pool0, pool1, mixed_2 (`perceptual_inception`). The two have different names
and are never put in one column.

LPIPS goes through the `lpips` package (v0.1 linear heads, inputs in [-1,1]) and only when its
backbone's ImageNet weights are already in the torch cache, since its constructor would
otherwise download them.
"""
from __future__ import annotations

import warnings

import torch

from ..networks import NETWORKS, locate, sha256_of


def perceptual_error(feats_x: list[torch.Tensor], feats_y: list[torch.Tensor]) -> torch.Tensor:
    return sum(((a.double() - b.double()) ** 2).mean(dim=(1, 2, 3)) for a, b in zip(feats_x, feats_y))


class LPIPSMetric(torch.nn.Module):
    def __init__(self, net: str = "alex"):
        super().__init__()
        import lpips

        self.net_name = net
        with warnings.catch_warnings():
            # lpips builds its backbone with torchvision's `pretrained=True`, deprecated since 0.13:
            # two notices a run that no user can act on (the same weights file is loaded either way)
            warnings.filterwarnings("ignore", message=r"(The parameter 'pretrained'|Arguments other than a weight enum)",
                                    category=UserWarning)
            self.model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=False, verbose=False).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        backbone = locate("alexnet" if net == "alex" else "vgg16")
        self.weights = {"backbone": str(backbone), "backbone_sha256": sha256_of(backbone),
                        "linear_heads": str(locate(f"lpips-lin-{net}"))}

    def forward(self, x01: torch.Tensor, y01: torch.Tensor) -> torch.Tensor:
        return self.model(x01.float() * 2 - 1, y01.float() * 2 - 1).flatten().double()


def lpips_unavailable_reason(net: str) -> str | None:
    backbone = "alexnet" if net == "alex" else "vgg16"
    if locate(backbone) is None:
        return f"{backbone} ImageNet weights absent: {NETWORKS[backbone].how_to_provide}"
    if locate(f"lpips-lin-{net}") is None:
        return NETWORKS[f"lpips-lin-{net}"].how_to_provide
    return None
