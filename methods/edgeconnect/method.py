"""`edgeconnect` for the harness: edge completion then inpainting, with shipped or user weights.

`--weights` takes a file written by `python -m methods.edgeconnect.train --export`, or the
authors' release: a folder with EdgeModel_gen.pth and InpaintingModel_gen.pth
(knazeri/edge-connect, e.g. its places2 checkpoints)."""
from __future__ import annotations

from pathlib import Path

from methods.learned import LearnedMethod

from .train import EdgeConnectRecipe


class EdgeConnect(LearnedMethod):
    """EdgeConnect: structure guided inpainting with adversarial edge learning (Nazeri et al., 2019)."""

    name = "edgeconnect"
    recipe = EdgeConnectRecipe
    shipped = Path(__file__).with_name("weights") / "edgeconnect.pt"
