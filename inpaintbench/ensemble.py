"""Test-time self-ensemble (the "geometric self-ensemble" of Lim et al. 2017, EDSR; Timofte et al.
2016): a method runs on transformed copies of its input, each output is transformed back, and the
outputs are averaged. `inpaintbench run --self-ensemble hflip`; the run is named METHOD+hflip.

Only left-right flips are offered: every trainer here flips its crops left-right and never
up-down or by rotation, so a mirrored photo is as likely as the original to the networks, and an
upside-down one is not (sky below ground). Written by hand: two calls and a mean.
"""
from __future__ import annotations

from typing import Callable

import torch

from .errors import InputError

ENSEMBLES = ("none", "hflip")


def self_ensemble(kind: str, inpaint: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                  masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """`inpaint(masked, hole)`, or with kind "hflip" the mean of it and its run on the mirrored
    input mirrored back (each output as `inpaint` returns it: the caller validates and clips)."""
    if kind not in ENSEMBLES:
        raise InputError(f"unknown self-ensemble {kind!r}; expected one of {', '.join(ENSEMBLES)}")
    out = inpaint(masked, hole)
    if kind == "none":
        return out
    mirrored = inpaint(masked.flip(-1), hole.flip(-1)).flip(-1)
    return (out + mirrored.to(out.device)) / 2
