"""Region-wise coarse-to-fine inpainting network (Ma et al., IJCAI 2019), in PyTorch.

Follows the authors' TF code (vickyFox/Region-wise-Inpainting, REFERENCE.md s1): every conv
reflect-pads by dilation*(k-1)/2 and is followed by ELU, the last one too, whose output is
then clipped to [-1, 1]; "deconv" is nearest x2 then a 3x3 conv. Only SINet's decoder layers
13-15 are region-wise; they resize the mask as `mask_resize` says (MASK_RESIZES). With weights
converted from the authors' checkpoints (convert_tf.py) the model gives TensorFlow's outputs of
their graph to 2e-6 (tests/test_convert_tf.py). Inside the network M is the paper's mask
(1 = known); the `hole` (1 = missing) used everywhere else in inpaintbench is converted in `forward`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..tf_compat import resize_nearest

#: the smallest image side: the dilation-16 convs run at 1/4 scale and reflect-pad 16 px, which
#: needs a feature map of at least 17 (68 px, divisible by 4)
MIN_SIDE = 68


#: how the region-wise layers resize the mask to a feature map: "nearest" (PyTorch's, source pixel
#: floor(i * in / out); what the weights trained here used) or "tf-align-corners" (the authors'
#: tf.image.resize_nearest_neighbor(align_corners=True), round(i * (in - 1) / (out - 1)); weights
#: converted from their TensorFlow checkpoints, convert_tf.py). At 256 px the two pick source pixels up
#: to 3 px apart on the 64 x 64 map, which moves the known/missing border of thin strokes.
MASK_RESIZES = ("nearest", "tf-align-corners")


@dataclass(frozen=True)
class RWConfig:
    cnum: int = 32  # 32 = paper
    region_wise: bool = True  # False: ablation (b), standard convolutions in SINet's decoder
    coarse_only: bool = False  # True: ablation (e), SINet alone
    mask_resize: str = "nearest"  # one of MASK_RESIZES

    def __post_init__(self):
        if self.mask_resize not in MASK_RESIZES:
            raise ValueError(f"mask_resize must be one of {', '.join(MASK_RESIZES)}, got {self.mask_resize!r}")

    def as_dict(self) -> dict:
        # the default left out, so a config reads as it did before the setting existed (checkpoints
        # and weights files compare configs as dicts)
        return {k: v for k, v in asdict(self).items() if k != "mask_resize" or v != "nearest"}


def resize_mask(m: torch.Tensor, size: tuple[int, int], how: str = "nearest") -> torch.Tensor:
    """M at a feature map's size, by one of MASK_RESIZES."""
    return resize_nearest(m, size, align_corners=how == "tf-align-corners")


class Conv(nn.Module):
    """Reflect-padded conv + ELU, the building block of both stages."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, act: bool = True):
        super().__init__()
        self.pad = dilation * (k - 1) // 2
        self.conv = nn.Conv2d(cin, cout, k, stride, 0, dilation)
        self.act = act

    def forward(self, x):
        x = self.conv(F.pad(x, [self.pad] * 4, mode="reflect"))
        return F.elu(x) if self.act else x


class UpConv(Conv):
    """The authors' "deconv": nearest-neighbour x2, then Conv."""

    def forward(self, x):
        return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))


class RegionWiseConv(nn.Module):
    """Eq. (1): filters W over the known region and W_hat over the missing region.

    The known-region filters see the decoder features and the encoder skip features, the
    missing-region filters see only the decoder features (the skip carries nothing there).
    Implemented as the authors do, one conv over concat(known * Ms, missing * (1 - Ms)),
    which equals W^T x on known positions plus W_hat^T x on missing ones with one shared bias.
    Ms is the mask M resized to the feature map (resize_mask). `upsample` makes it a
    region-wise deconv: the masked features are upsampled x2 before the conv.
    """

    def __init__(self, c_known: int, c_missing: int, cout: int, upsample: bool = False, mask_resize: str = "nearest"):
        super().__init__()
        self.c_known, self.c_missing, self.upsample, self.mask_resize = c_known, c_missing, upsample, mask_resize
        self.conv = Conv(c_known + c_missing, cout)

    def forward(self, known: torch.Tensor, missing: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        ms = resize_mask(m, known.shape[-2:], self.mask_resize)
        x = torch.cat([known * ms, missing * (1 - ms)], dim=1)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x)


class PlainDecoderConv(nn.Module):
    """Ablation (b): the same decoder slot with one standard conv over [decoder, skip]."""

    def __init__(self, c_known: int, c_missing: int, cout: int, upsample: bool = False, mask_resize: str = "nearest"):
        super().__init__()
        self.conv = (UpConv if upsample else Conv)(c_known, cout)

    def forward(self, known, missing, m):
        return self.conv(known)


class Encoder(nn.Module):
    """Layers 1-12, shared by both stages: 2 downsamplings, 4 dilated convs, two skip convs."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = Conv(4, c, 5)
        self.conv2_downsample = Conv(c, 2 * c, stride=2)
        self.conv3 = Conv(2 * c, 2 * c)
        self.conv4_downsample = Conv(2 * c, 4 * c, stride=2)
        self.conv5 = Conv(4 * c, 4 * c)
        self.conv6 = Conv(4 * c, 4 * c)
        self.conv7_atrous = Conv(4 * c, 4 * c, dilation=2)
        self.conv8_atrous = Conv(4 * c, 4 * c, dilation=4)
        self.conv9_atrous = Conv(4 * c, 4 * c, dilation=8)
        self.conv10_atrous = Conv(4 * c, 4 * c, dilation=16)
        self.conv11 = Conv(8 * c, 4 * c)
        self.conv12 = Conv(8 * c, 4 * c)

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2_downsample(x1)
        x3 = self.conv3(x2)
        x4 = self.conv4_downsample(x3)
        x5 = self.conv5(x4)
        x6 = self.conv6(x5)
        x10 = self.conv10_atrous(self.conv9_atrous(self.conv8_atrous(self.conv7_atrous(x6))))
        x11 = self.conv11(torch.cat([x10, x6], 1))
        x12 = self.conv12(torch.cat([x11, x5], 1))
        return x1, x2, x3, x4, x12


class SINet(nn.Module):
    """Semantic inferring network (coarse stage, E1 + G): region-wise decoder layers 13-15."""

    def __init__(self, c: int = 32, region_wise: bool = True, mask_resize: str = "nearest"):
        super().__init__()
        self.encoder = Encoder(c)
        layer = RegionWiseConv if region_wise else PlainDecoderConv
        self.com_13 = layer(8 * c, 4 * c, 4 * c, upsample=True, mask_resize=mask_resize)
        self.com_14 = layer(6 * c, 4 * c, 4 * c, mask_resize=mask_resize)
        self.com_15 = layer(6 * c, 4 * c, 4 * c, upsample=True, mask_resize=mask_resize)
        self.conv16 = Conv(4 * c, c)
        self.conv17 = Conv(c, c // 2)
        self.conv18 = Conv(c // 2, 3)

    def forward(self, x_in, m):
        _, x2, x3, x4, x12 = self.encoder(torch.cat([x_in, m], 1))
        x13 = self.com_13(torch.cat([x12, x4], 1), x12, m)
        x14 = self.com_14(torch.cat([x13, x3], 1), x13, m)
        x15 = self.com_15(torch.cat([x14, x2], 1), x14, m)
        return self.conv18(self.conv17(self.conv16(x15))).clamp(-1, 1)


class GPNet(nn.Module):
    """Global perceiving network (fine stage, E2 + D): a U-Net-like decoder with skip links."""

    def __init__(self, c: int = 32):
        super().__init__()
        self.encoder = Encoder(c)
        self.conv13_upsample = UpConv(8 * c, 2 * c)
        self.conv14 = Conv(4 * c, 2 * c)
        self.conv15_upsample = UpConv(4 * c, c)
        self.conv16 = Conv(2 * c, c // 2)
        self.conv17 = Conv(c // 2, 3)

    def forward(self, x_in, m):
        x1, x2, x3, x4, x12 = self.encoder(torch.cat([x_in, m], 1))
        x13 = self.conv13_upsample(torch.cat([x12, x4], 1))
        x14 = self.conv14(torch.cat([x13, x3], 1))
        x15 = self.conv15_upsample(torch.cat([x14, x2], 1))
        return self.conv17(self.conv16(torch.cat([x15, x1], 1))).clamp(-1, 1)


class RegionWiseInpainter(nn.Module):
    """The whole coarse-to-fine framework of Figure 2."""

    def __init__(self, config: RWConfig = RWConfig()):
        super().__init__()
        self.config = config
        self.sinet = SINet(config.cnum, config.region_wise, config.mask_resize)
        self.gpnet = None if config.coarse_only else GPNet(config.cnum)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                # TF's default initialisation, as in the authors' code.
                nn.init.xavier_uniform_(mod.weight)
                nn.init.zeros_(mod.bias)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """image (B,3,H,W) in [0,1] (hole pixels are ignored), hole (B,1,H,W) 1 = missing.

        Returns the stages in [-1, 1]: p1/c1 (coarse prediction/composite), p2/c2 (fine);
        with coarse_only, p2/c2 are p1/c1. H and W must be divisible by 4 and at least MIN_SIDE.
        """
        if image.shape[-1] % 4 or image.shape[-2] % 4:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by 4, which the two downsamplings need")
        if min(image.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is under {MIN_SIDE} px, the least the dilated convs' reflect padding takes")
        if hole.shape[0] != image.shape[0] or hole.shape[1] != 1 or hole.shape[-2:] != image.shape[-2:]:
            raise ValueError(f"hole must be (B,1,H,W) matching the image; got {tuple(hole.shape)} for image {tuple(image.shape)}")
        m = 1 - hole  # the paper's M: 1 on known pixels
        gt = image * 2 - 1
        incomplete = gt * m
        p1 = self.sinet(incomplete, m)
        c1 = incomplete + p1 * (1 - m)
        if self.gpnet is None:
            return {"p1": p1, "c1": c1, "p2": p1, "c2": c1}
        p2 = self.gpnet(c1, m)
        return {"p1": p1, "c1": c1, "p2": p2, "c2": incomplete + p2 * (1 - m)}
