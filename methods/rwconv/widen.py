"""Function-preserving widening (Net2WiderNet, Chen et al., ICLR 2016): weights trained at one
`cnum` become the starting point of a run at r times that width that computes the same function.

Why: the paper's width is 32; the shipped weights were trained at 16 because a CPU could afford
nothing more. Starting cnum 32 from scratch would throw away all their training, so the wide
network starts as the narrow one and a GPU spends its time on what the extra channels add.

Every hidden tensor of this network (convolution outputs, their concatenations, the region-wise
masked halves) scales with cnum by the same factor r, and every operation between convolutions
acts per channel (ELU, nearest resizing, multiplying by the resized mask). So widening with
*interleaved* copies - new channel j copies old channel j // r - commutes with concatenation:
copying each part and concatenating equals copying the concatenation. One rule then fits every
convolution, whatever it concatenates:

    W'[o, i] = W[o // r, i // r] * s[o, i]     b'[o] = b[o // r]

for a widened output o and a widened input i (an unwidened side - the 4-channel image and mask
in, the 3-channel image out - keeps its index), where the r shares s of one old input channel
sum to 1. Equal shares (1/r) would give the copies identical gradients forever, so they would
never differ and the extra width would be wasted; random shares that still sum to 1 keep the
function exact and break the symmetry (Chen et al. add noise for the same reason).
"""
from __future__ import annotations

import torch
import torch.nn as nn


def widen_state_dict(narrow: nn.Module, wide: nn.Module, generator: torch.Generator | None = None,
                     spread: float = 0.2) -> dict[str, torch.Tensor]:
    """`wide`'s state dict holding `narrow`'s function. Both are the same architecture with every
    hidden width r times larger in `wide`. `spread` in [0, 1): the shares of the r copies of an
    input channel are 1/r * (1 + u), u uniform in [-spread, spread], re-centred to sum to 1."""
    old = dict(narrow.named_modules())
    out = {}
    for name, mod in wide.named_modules():
        if not isinstance(mod, nn.Conv2d):
            if any(True for _ in mod.parameters(recurse=False)):
                raise ValueError(f"cannot widen {name}: {type(mod).__name__} is not a convolution")
            continue
        src = old.get(name)
        if not isinstance(src, nn.Conv2d) or src.kernel_size != mod.kernel_size or src.groups != 1 or mod.groups != 1:
            raise ValueError(f"cannot widen {name}: no matching convolution in the narrow network")
        r_out, r_in = _factor(name, "output", src.out_channels, mod.out_channels), _factor(name, "input", src.in_channels, mod.in_channels)
        o = torch.arange(mod.out_channels) // r_out
        i = torch.arange(mod.in_channels) // r_in
        w = src.weight.detach()[o][:, i]
        if r_in > 1:
            u = (torch.rand(w.shape[:2], generator=generator, dtype=w.dtype) * 2 - 1) * spread
            share = (1 + u).reshape(mod.out_channels, src.in_channels, r_in)
            share = share / share.sum(-1, keepdim=True)  # the r copies of one old input channel share exactly 1
            w = w * share.reshape(mod.out_channels, mod.in_channels)[..., None, None]
        out[f"{name}.weight"] = w.clone()
        if mod.bias is not None:
            out[f"{name}.bias"] = src.bias.detach()[o].clone()
    return out


def _factor(name: str, side: str, narrow: int, wide: int) -> int:
    if wide % narrow:
        raise ValueError(f"cannot widen {name}: {side} channels {narrow} -> {wide} is not a whole multiple")
    return wide // narrow
