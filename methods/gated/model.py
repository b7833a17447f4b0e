"""Gated convolutions, DeepFill v2 (Yu et al., ICCV 2019), in PyTorch.

Follows the authors' TF code (JiahuiYu/generative_inpainting, v2 branch; REFERENCE.md s2):
`gen_conv(x, cnum)` is one conv with cnum filters split in two halves, features and gate,
y = ELU(features) * sigmoid(gate), so a layer "of cnum" carries cnum/2 channels; the last
layer is a plain conv followed by tanh. Zero padding, nearest x2 + conv for upsampling.
Coarse network = the DeepFill v1 topology; refinement network = a dilated conv branch and a
contextual-attention branch, concatenated. `tf_compat` runs TensorFlow's padding and resizing
instead of PyTorch's; with it and weights converted from the authors' checkpoints
(convert_tf.py) the model gives TensorFlow's outputs of their graph to 5e-6
(tests/test_convert_tf.py). Inside, `hole` is 1 on missing pixels, as in the authors' code (no
conversion needed).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..tf_compat import resize_nearest, same_padding


@dataclass(frozen=True)
class GatedConfig:
    cnum: int = 48  # 48 = paper
    attention: bool = True  # contextual attention in the refinement branch
    #: TensorFlow's arithmetic, for weights converted from the authors' checkpoints (convert_tf.py):
    #: 'SAME' padding (0 before, 1 after at stride 2 on an even side) and nearest resizing with
    #: align_corners=True (neuralgym's default). The weights trained here use PyTorch's (False).
    tf_compat: bool = False

    def as_dict(self) -> dict:
        # the default left out, so configs read as they did before the setting existed
        return {k: v for k, v in asdict(self).items() if k != "tf_compat" or v}


class GatedConv2d(nn.Module):
    """y = act(f) * sigmoid(g) with [f, g] = conv(x) (filters/2 channels each); gated=False
    gives the plain output conv."""

    def __init__(self, cin: int, filters: int, k: int = 3, stride: int = 1, dilation: int = 1,
                 act=F.elu, gated: bool = True, tf_compat: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, filters, k, stride, 0 if tf_compat else dilation * (k - 1) // 2, dilation)
        self.act, self.gated, self.tf_compat = act, gated, tf_compat
        self.out_channels = filters // 2 if gated else filters

    def forward(self, x):
        if self.tf_compat:
            x = same_padding(x, self.conv.kernel_size[0], self.conv.stride[0], self.conv.dilation[0])
        x = self.conv(x)
        if not self.gated:
            return x
        f, g = x.chunk(2, dim=1)
        return self.act(f) * torch.sigmoid(g)


class GatedUpConv(GatedConv2d):
    """The authors' gen_deconv: nearest x2, then a gated 3x3 conv."""

    def forward(self, x):
        return super().forward(resize_nearest(x, [2 * n for n in x.shape[-2:]], self.tf_compat))


def _patches(x: torch.Tensor, k: int, stride: int) -> torch.Tensor:
    """(C,H,W) -> (L, C, k, k) patches with TF 'SAME' padding."""
    pad = max(k - stride, 0)
    x = F.pad(x[None], (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    p = F.unfold(x, k, stride=stride)  # (1, C*k*k, L)
    return p[0].T.reshape(-1, x.shape[1], k, k)


def contextual_attention(f: torch.Tensor, b: torch.Tensor, hole: torch.Tensor, ksize: int = 3, rate: int = 2,
                         softmax_scale: float = 10.0, fuse: bool = True, tf_compat: bool = False) -> torch.Tensor:
    """Contextual attention (Yu et al. 2018): every foreground position becomes a softmax-weighted
    sum of background patches, weights = cosine similarity of 3x3 patches at 1/rate resolution,
    patches that touch the hole excluded, scores propagated along diagonals (`fuse`), and the
    pasted patches taken at full resolution (2*rate wide) via a transposed conv.

    f, b: (B,C,H,W) foreground and background features (the same map in DeepFill); hole (B,1,H,W)."""
    B, C, H, W = f.shape
    kernel = 2 * rate
    f_s = resize_nearest(f, [n // rate for n in f.shape[-2:]], tf_compat)
    b_s = resize_nearest(b, [n // rate for n in b.shape[-2:]], tf_compat)
    m_s = resize_nearest(hole, [n // rate for n in hole.shape[-2:]], tf_compat)
    h, w = f_s.shape[-2:]
    bh, bw = b_s.shape[-2:]
    eye = torch.eye(ksize, dtype=f.dtype, device=f.device)[None, None]
    outs = []
    for i in range(B):
        raw_w = _patches(b[i], kernel, rate)  # (L, C, 4, 4) for pasting
        w_i = _patches(b_s[i], ksize, 1)  # (L, C, 3, 3) for matching
        usable = (_patches(m_s[i], ksize, 1).mean(dim=(1, 2, 3)) == 0).to(f.dtype).view(1, -1, 1, 1)
        w_n = w_i / w_i.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-4)
        y = F.conv2d(F.pad(f_s[i : i + 1], (ksize // 2,) * 4), w_n)  # (1, L, h, w)
        if fuse:  # propagate scores along the diagonal of (foreground, background) twice, transposed
            y = y.reshape(1, bh * bw, h * w).transpose(1, 2).reshape(1, 1, h * w, bh * bw)
            y = F.conv2d(y, eye, padding=ksize // 2)
            y = y.reshape(h, w, bh, bw).permute(1, 0, 3, 2).reshape(1, 1, w * h, bw * bh)
            y = F.conv2d(y, eye, padding=ksize // 2)
            y = y.reshape(w, h, bw, bh).permute(1, 0, 3, 2).reshape(h * w, bh * bw).T.reshape(1, bh * bw, h, w)
        y = F.softmax(y * usable * softmax_scale, dim=1) * usable
        outs.append(F.conv_transpose2d(y, raw_w, stride=rate, padding=(kernel - rate) // 2) / 4.0)
    return torch.cat(outs)


_ENCODER_NAMES = ["conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6",
                  "conv7_atrous", "conv8_atrous", "conv9_atrous", "conv10_atrous"]


def _encoder(cin: int, filters: list[int], prefix: str, tf_compat: bool = False) -> list[tuple[str, GatedConv2d]]:
    """Layers 1-10 of both DeepFill encoders: 5x5, two stride-2 3x3 downsamplings, dilations 2-16."""
    kernels, strides, dilations = [5] + [3] * 9, [1, 2, 1, 2] + [1] * 6, [1] * 6 + [2, 4, 8, 16]
    layers = []
    for name, f, k, s, d in zip(_ENCODER_NAMES, filters, kernels, strides, dilations):
        layers.append((prefix + name, GatedConv2d(cin, f, k, s, d, tf_compat=tf_compat)))
        cin = f // 2
    return layers


def _layers(tf_compat: bool):
    """The two layer classes, built with TensorFlow's arithmetic or PyTorch's."""
    return (functools.partial(GatedConv2d, tf_compat=tf_compat), functools.partial(GatedUpConv, tf_compat=tf_compat))


class CoarseNet(nn.Module):
    """Stage 1: DeepFill v1's coarse network with gated convolutions."""

    def __init__(self, c: int, tf_compat: bool = False):
        super().__init__()
        GatedConv2d, GatedUpConv = _layers(tf_compat)
        self.body = nn.ModuleDict(_encoder(5, [c, 2 * c, 2 * c] + [4 * c] * 7, "", tf_compat))
        half = lambda n: n // 2
        self.body["conv11"] = GatedConv2d(half(4 * c), 4 * c)
        self.body["conv12"] = GatedConv2d(half(4 * c), 4 * c)
        self.body["conv13_upsample"] = GatedUpConv(half(4 * c), 2 * c)
        self.body["conv14"] = GatedConv2d(half(2 * c), 2 * c)
        self.body["conv15_upsample"] = GatedUpConv(half(2 * c), c)
        self.body["conv16"] = GatedConv2d(half(c), c // 2)
        self.body["conv17"] = GatedConv2d(half(c // 2), 3, gated=False)

    def forward(self, x):
        for layer in self.body.values():
            x = layer(x)
        return torch.tanh(x)


class RefineNet(nn.Module):
    """Stage 2: dilated conv branch (x...) + contextual attention branch (pm...), merged (all...)."""

    def __init__(self, c: int, attention: bool = True, tf_compat: bool = False):
        super().__init__()
        GatedConv2d, GatedUpConv = _layers(tf_compat)
        self.conv_branch = nn.ModuleDict(_encoder(3, [c, c, 2 * c, 2 * c] + [4 * c] * 6, "x", tf_compat))
        self.attention, self.tf_compat = attention, tf_compat
        self.attention_branch = nn.ModuleDict({
            "pmconv1": GatedConv2d(3, c, 5), "pmconv2_downsample": GatedConv2d(c // 2, c, 3, 2),
            "pmconv3": GatedConv2d(c // 2, 2 * c), "pmconv4_downsample": GatedConv2d(c, 4 * c, 3, 2),
            "pmconv5": GatedConv2d(2 * c, 4 * c), "pmconv6": GatedConv2d(2 * c, 4 * c, act=F.relu),
            "pmconv9": GatedConv2d(2 * c, 4 * c), "pmconv10": GatedConv2d(2 * c, 4 * c)})
        self.merge = nn.ModuleDict({
            "allconv11": GatedConv2d(4 * c, 4 * c), "allconv12": GatedConv2d(2 * c, 4 * c),
            "allconv13_upsample": GatedUpConv(2 * c, 2 * c), "allconv14": GatedConv2d(c, 2 * c),
            "allconv15_upsample": GatedUpConv(c, c), "allconv16": GatedConv2d(c // 2, c // 2),
            "allconv17": GatedConv2d(c // 4, 3, gated=False)})

    def forward(self, x, hole):
        h = x
        for layer in self.conv_branch.values():
            h = layer(h)
        p = x
        for name, layer in self.attention_branch.items():
            p = layer(p)
            if name == "pmconv6" and self.attention:
                p = contextual_attention(p, p, resize_nearest(hole, p.shape[-2:], self.tf_compat), tf_compat=self.tf_compat)
        y = torch.cat([h, p], 1)
        for layer in self.merge.values():
            y = layer(y)
        return torch.tanh(y)


class GatedInpainter(nn.Module):
    """DeepFill v2 generator: coarse then refine, composited in between."""

    def __init__(self, config: GatedConfig = GatedConfig()):
        super().__init__()
        self.config = config
        self.coarse = CoarseNet(config.cnum, config.tf_compat)
        self.refine = RefineNet(config.cnum, config.attention, config.tf_compat)
        # Initialisation is not the authors' (TF's glorot uniform, zero biases): with it, and with
        # PyTorch's default, every gate starts half shut (sigmoid(0) = 0.5) and the signal decays
        # through the 17 gated layers of each stage; measured at cnum 24, 128 px: the output
        # changed by 1e-9 when the input image was replaced, and 500 training steps learned a
        # constant colour. He-normal weights and gate biases of +2 (gates 0.88 open) keep the
        # output sensitive to the input from step 0 (change 0.39).
        for m in self.modules():
            if isinstance(m, GatedConv2d):
                nn.init.kaiming_normal_(m.conv.weight, nonlinearity="relu")
                nn.init.zeros_(m.conv.bias)
                if m.gated:
                    with torch.no_grad():
                        m.conv.bias[m.out_channels:] = 2.0

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """image in [0, 1] (hole pixels ignored), hole 1 = missing -> x1 (coarse), x2 (fine) in [-1, 1]."""
        if image.shape[-1] % 8 or image.shape[-2] % 8:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by 8, which the network needs")
        incomplete = (image * 2 - 1) * (1 - hole)
        ones = torch.ones_like(hole)
        x1 = self.coarse(torch.cat([incomplete, ones, ones * hole], 1))
        x2 = self.refine(x1 * hole + incomplete * (1 - hole), hole)
        return {"x1": x1, "x2": x2}


class SNPatchGAN(nn.Module):
    """SN-PatchGAN: six 5x5 stride-2 spectral-normalised convs with LeakyReLU(0.2); every
    output element is a real/fake score for one patch. Input: image in [-1, 1] + hole."""

    def __init__(self, cnum: int = 64):
        super().__init__()
        widths = [4, cnum, 2 * cnum, 4 * cnum, 4 * cnum, 4 * cnum, 4 * cnum]
        self.convs = nn.ModuleList(nn.utils.spectral_norm(nn.Conv2d(a, b, 5, 2, 2)) for a, b in zip(widths, widths[1:]))

    def forward(self, x, hole):
        x = torch.cat([x, hole], 1)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return x.flatten(1)
