"""The authors' TensorFlow checkpoints as rwconv weights.

vickyFox/Region-wise-Inpainting publishes trained generators (CelebA-HQ, Paris StreetView,
Places2) as TF1 Saver checkpoints. This writes one as an inpaintbench weights file, so that
`inpaintbench run --method rwconv --weights FILE` scores the authors' own model:

    python -m methods.rwconv.convert_tf models/places2/v19.ckpt-3500 --out rwconv-authors-places2.pt

Their variables are named by their graph (SINet in scope inpaint_net, GPNet in inpaint_net_1,
tf.layers.conv2d's "<layer>_1", region_conv.py's "com_14_fusion"), kernels HWIO; the model here
names its layers as theirs (model.py), so the mapping is one rule and the width follows from
conv1's kernel. The weights keep their float32 and the authors' mask resizing (mask_resize
"tf-align-corners"); optimiser slots and the discriminator are left out.
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
from .model import RegionWiseInpainter, RWConfig
from .train import RWRecipe

SCOPES = {"sinet": "inpaint_net", "gpnet": "inpaint_net_1"}
#: region_conv.py's names: a region-wise deconv goes through standard_dconv ("_fusion" + "_1"), the
#: region-wise conv calls tf.layers.conv2d itself ("_fusion")
REGION_WISE = {"com_13": "com_13_fusion_1", "com_14": "com_14_fusion", "com_15": "com_15_fusion_1"}


def tf_name(key: str) -> str:
    """The TF variable a parameter of the model comes from: sinet.encoder.conv1.conv.weight ->
    inpaint_net/conv1_1/kernel, sinet.com_14.conv.conv.bias -> inpaint_net/com_14_fusion/bias."""
    stage, *path, param = key.split(".")
    layer = next(p for p in path if p not in ("encoder", "conv"))
    return f"{SCOPES[stage]}/{REGION_WISE.get(layer, layer + '_1')}/{'kernel' if param == 'weight' else 'bias'}"


def convert(prefix: str | Path) -> dict:
    """An rwconv weights file's contents (load_weights reads it) from the checkpoint at `prefix`."""
    ck = TFCheckpoint(prefix)
    first = ck.shapes.get("inpaint_net/conv1_1/kernel")
    if first is None or len(first) != 4 or first[:3] != (5, 5, 4):
        raise InputError(f"{ck.prefix}: no region-wise generator here (inpaint_net/conv1_1/kernel is "
                         f"{first or 'missing'}, expected 5x5x4xcnum); it holds {', '.join(sorted(ck.shapes)[:4])}, ...")
    config = RWConfig(cnum=first[3], mask_resize="tf-align-corners")
    model = RegionWiseInpainter(config)
    state, missing = {}, []
    for key, ours in model.state_dict().items():
        name = tf_name(key)
        if name not in ck.shapes:
            missing.append(name)
            continue
        value = torch.from_numpy(ck.tensor(name)).float()
        value = value.permute(3, 2, 0, 1) if value.ndim == 4 else value  # HWIO -> OIHW
        if value.shape != ours.shape:
            raise InputError(f"{ck.prefix}: {name} is {tuple(ck.shapes[name])}, the cnum-{config.cnum} model needs "
                             f"{tuple(ours.shape)} for {key}")
        state[key] = value.contiguous()
    if missing:
        raise InputError(f"{ck.prefix}: {len(missing)} of the generator's variables are missing, e.g. {', '.join(missing[:3])}")
    files = [Path(f"{ck.prefix}.index"), *sorted(ck.prefix.parent.glob(ck.prefix.name + ".data-*"))]
    step = int(ck.tensor("global_step")) if ck.shapes.get("global_step") == () else None
    return {"format": RWRecipe.weights_format(), "state_dict": state, "model_config": config.as_dict(), "step": step,
            "source": f"the authors' TensorFlow checkpoint {ck.prefix.name} (vickyFox/Region-wise-Inpainting), "
                      f"converted by methods/rwconv/convert_tf.py",
            "converted_from": {f.name: sha256_of(f) for f in files}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m methods.rwconv.convert_tf", description=__doc__,
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
          f"inpaintbench run --method rwconv --weights {a.out}")


if __name__ == "__main__":
    main()
