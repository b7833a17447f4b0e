"""The authors' TensorFlow checkpoints of DeepFill v2 as `gated` weights.

JiahuiYu/generative_inpainting (v2) publishes trained generators (Places2, CelebA-HQ) as TF1
Saver checkpoints. This writes one as an inpaintbench weights file, so that
`inpaintbench run --method gated --weights FILE` scores the authors' own model:

    python -m methods.gated.convert_tf model_logs/release_places2_256_deepfill_v2/snap-0 --out gated-places2.pt

Their variables are named by their graph (scope inpaint_net, one tf.layers.conv2d per layer,
gen_deconv's "<name>/<name>_conv"); the model here names its layers as theirs, kernels go HWIO ->
OIHW and the width follows from conv1. Their test.py feeds images as cv2 reads them, BGR: the
channel order is folded into the weights (the input channels of conv1, xconv1 and pmconv1 and the
output channels of conv17 and allconv17 reversed), so the model still takes and gives RGB. The file
records tf_compat (TensorFlow's 'SAME' padding and align-corners resizing, model.py).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from inpaintbench.errors import InputError, one_line
from inpaintbench.networks import sha256_of

from ..tf_checkpoint import TFCheckpoint
from ..training.trainer import save_atomic
from .model import GatedConfig, GatedInpainter
from .train import GatedRecipe

#: the layers whose input is an image (its first three channels BGR in theirs) and whose output is one
BGR_IN, BGR_OUT = ("conv1", "xconv1", "pmconv1"), ("conv17", "allconv17")


def tf_name(key: str) -> str:
    """coarse.body.conv13_upsample.conv.weight -> inpaint_net/conv13_upsample/conv13_upsample_conv/kernel."""
    *_, layer, _conv, param = key.split(".")
    scope = f"{layer}/{layer}_conv" if layer.endswith("_upsample") else layer
    return f"inpaint_net/{scope}/{'kernel' if param == 'weight' else 'bias'}"


def convert(prefix: str | Path) -> dict:
    """A gated weights file's contents (load_weights reads it) from the checkpoint at `prefix`."""
    ck = TFCheckpoint(prefix)
    first = ck.shapes.get("inpaint_net/conv1/kernel")
    if first is None or len(first) != 4 or first[:3] != (5, 5, 5):
        raise InputError(f"{ck.prefix}: no DeepFill v2 generator here (inpaint_net/conv1/kernel is "
                         f"{first or 'missing'}, expected 5x5x5xcnum); it holds {', '.join(sorted(ck.shapes)[:4])}, ...")
    config = GatedConfig(cnum=first[3], attention=True, tf_compat=True)
    model = GatedInpainter(config)
    state, missing = {}, []
    for key, ours in model.state_dict().items():
        name = tf_name(key)
        if name not in ck.shapes:
            missing.append(name)
            continue
        value = torch.from_numpy(ck.tensor(name)).float()
        layer = key.split(".")[-3]
        if value.ndim == 4:
            value = value.permute(3, 2, 0, 1)  # HWIO -> OIHW
            if layer in BGR_IN:
                value = torch.cat([value[:, [2, 1, 0]], value[:, 3:]], 1)
        if layer in BGR_OUT:
            value = value.flip(0)
        if value.shape != ours.shape:
            raise InputError(f"{ck.prefix}: {name} is {tuple(ck.shapes[name])}, the cnum-{config.cnum} model needs "
                             f"{tuple(ours.shape)} for {key}")
        state[key] = value.contiguous()
    if missing:
        raise InputError(f"{ck.prefix}: {len(missing)} of the generator's variables are missing, e.g. {', '.join(missing[:3])}")
    files = [Path(f"{ck.prefix}.index"), *sorted(ck.prefix.parent.glob(ck.prefix.name + ".data-*"))]
    step = int(ck.tensor("global_step")) if ck.shapes.get("global_step") == () else None
    return {"format": GatedRecipe.weights_format(), "state_dict": state, "model_config": config.as_dict(), "step": step,
            "source": f"the authors' TensorFlow checkpoint {ck.prefix.name} (JiahuiYu/generative_inpainting v2), "
                      f"converted by methods/gated/convert_tf.py",
            "converted_from": {f.name: sha256_of(f) for f in files}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m methods.gated.convert_tf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("prefix", help="the checkpoint's prefix (PREFIX.index and PREFIX.data-* beside it)")
    p.add_argument("--out", required=True, type=Path, help="the weights file to write (.pt)")
    a = p.parse_args(argv)
    try:
        blob = convert(a.prefix)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        save_atomic(blob, a.out)
    except (InputError, OSError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {a.out}: cnum {blob['model_config']['cnum']}, step {blob['step']}; "
          f"inpaintbench run --method gated --weights {a.out}")


if __name__ == "__main__":
    main()
