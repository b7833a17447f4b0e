"""TensorFlow 1's arithmetic where it differs from PyTorch's, for weights converted from the
authors' TensorFlow checkpoints (methods/tf_checkpoint.py reads them). Each rule is checked
against TensorFlow's own op by the fixtures under tests/fixtures/*_tf."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_nearest_align_corners(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """tf.image.resize_nearest_neighbor(align_corners=True) (rwconv's region_conv.py; DeepFill's
    neuralgym `resize`, whose default it is): source pixel roundf(i * (in-1)/(out-1)) in float32,
    halves away from 0, where PyTorch's nearest takes floor(i * in/out)."""
    index = []
    for n_in, n_out in zip(x.shape[-2:], size):
        scale = torch.tensor((n_in - 1) / (n_out - 1) if n_out > 1 else n_in / n_out, dtype=torch.float32)
        at = torch.floor(torch.arange(n_out, dtype=torch.float32) * scale + 0.5).long().clamp(max=n_in - 1)
        index.append(at.to(x.device))
    return x[..., index[0][:, None], index[1][None, :]]


def resize_nearest(x: torch.Tensor, size, align_corners: bool = False) -> torch.Tensor:
    """Nearest resizing by PyTorch's rule, or with align_corners by TensorFlow 1's (above): the one
    switch both models' settings (rwconv's mask_resize, gated's tf_compat) turn."""
    size = tuple(size)
    return resize_nearest_align_corners(x, size) if align_corners else F.interpolate(x, size=size, mode="nearest")


def same_padding(x: torch.Tensor, k: int, stride: int, dilation: int = 1) -> torch.Tensor:
    """x zero-padded as a TF conv with padding='SAME' pads it: ceil(n / stride) outputs, the odd
    pixel of the padding after, so a stride-2 3x3 conv on an even side pads 0 before and 1 after
    (PyTorch's padding=1 pads 1 on both sides, shifting every output by half a pixel)."""
    pads = []
    for n in reversed(x.shape[-2:]):
        total = max((-(-n // stride) - 1) * stride + (k - 1) * dilation + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)
