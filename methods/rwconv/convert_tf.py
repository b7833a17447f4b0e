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

from pathlib import Path

from ..tf_checkpoint import TFCheckpoint, convert_command, state_dict_from, weights_file, width
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
    cnum = width(ck, "inpaint_net/conv1_1/kernel", (5, 5, 4), "region-wise generator")
    config = RWConfig(cnum=cnum, mask_resize="tf-align-corners")
    state = state_dict_from(ck, RegionWiseInpainter(config), tf_name)
    return weights_file(ck, RWRecipe.weights_format(), config.as_dict(), state,
                        f"the authors' TensorFlow checkpoint {ck.prefix.name} (vickyFox/Region-wise-Inpainting), "
                        f"converted by methods/rwconv/convert_tf.py")


def main(argv=None) -> None:
    convert_command(convert, "rwconv", __doc__, argv)


if __name__ == "__main__":
    main()
