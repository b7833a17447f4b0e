"""The paper's Figure 5(e), "results of the coarse stage": a trained model's SINet on its own.

    python -m methods.rwconv.coarse_stage [--weights IN] OUT

writes weights that `rwconv` loads like any other (`--weights OUT`): the SINet parameters of IN
(default: the shipped weights) with `coarse_only` set, so the output is exactly IN's stage-1
composite. A coarse model trained on its own is another experiment:
`inpaintbench train rwconv --coarse-only`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from inpaintbench.errors import InputError
from inpaintbench.networks import sha256_of
from methods.training.trainer import save_atomic

from .method import SHIPPED, load_model


def coarse_stage(src: Path, dst: Path) -> Path:
    _, blob = load_model(src)  # any accepted weights file, checked as rwconv would check it
    if blob["model_config"].get("coarse_only"):
        raise InputError(f"{src} already holds a coarse-only model; its coarse stage is the model itself")
    state = {k: v.half() if v.is_floating_point() else v for k, v in blob["state_dict"].items() if k.startswith("sinet.")}
    out = {**blob, "state_dict": state, "model_config": {**blob["model_config"], "coarse_only": True},
           "source": f"coarse stage (SINet) of rwconv weights sha256 {sha256_of(src)}; GPNet dropped, not retrained"}
    save_atomic(out, Path(dst))
    return Path(dst)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--weights", type=Path, default=SHIPPED)
    a = p.parse_args(argv)
    try:
        print(f"wrote {coarse_stage(a.weights, a.out)}")
    except InputError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
