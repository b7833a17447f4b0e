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

from pathlib import Path

import torch

from ..tf_checkpoint import TFCheckpoint, convert_command, state_dict_from, weights_file, width
from .model import GatedConfig, GatedInpainter
from .train import GatedRecipe

#: the layers whose input is an image (its first three channels BGR in theirs) and whose output is one
BGR_IN, BGR_OUT = ("conv1", "xconv1", "pmconv1"), ("conv17", "allconv17")


def tf_name(key: str) -> str:
    """coarse.body.conv13_upsample.conv.weight -> inpaint_net/conv13_upsample/conv13_upsample_conv/kernel."""
    *_, layer, _conv, param = key.split(".")
    scope = f"{layer}/{layer}_conv" if layer.endswith("_upsample") else layer
    return f"inpaint_net/{scope}/{'kernel' if param == 'weight' else 'bias'}"


def _bgr_to_rgb(key: str, value):
    layer = key.split(".")[-3]
    if layer in BGR_IN and value.ndim == 4:
        value = torch.cat([value[:, [2, 1, 0]], value[:, 3:]], 1)
    return value.flip(0) if layer in BGR_OUT else value


def convert(prefix: str | Path) -> dict:
    """A gated weights file's contents (load_weights reads it) from the checkpoint at `prefix`."""
    ck = TFCheckpoint(prefix)
    cnum = width(ck, "inpaint_net/conv1/kernel", (5, 5, 5), "DeepFill v2 generator")
    config = GatedConfig(cnum=cnum, attention=True, tf_compat=True)
    state = state_dict_from(ck, GatedInpainter(config), tf_name, _bgr_to_rgb)
    return weights_file(ck, GatedRecipe.weights_format(), config.as_dict(), state,
                        f"the authors' TensorFlow checkpoint {ck.prefix.name} (JiahuiYu/generative_inpainting v2), "
                        f"converted by methods/gated/convert_tf.py")


def main(argv=None) -> None:
    convert_command(convert, "gated", __doc__, argv)


if __name__ == "__main__":
    main()
