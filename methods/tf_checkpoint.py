"""Reading a TensorFlow checkpoint (a Saver's V2 bundle: PREFIX.index + PREFIX.data-*) without TensorFlow.

By hand because the only library that reads the format is TensorFlow itself, a dependency of
hundreds of megabytes for a one-time conversion (methods/rwconv/convert_tf.py); the format is small:
PREFIX.index is a LevelDB table (blocks of prefix-compressed keys, a footer with the index block's
place) mapping each variable's name to a BundleEntryProto (dtype, shape, shard, offset, size),
and the data files hold the raw little-endian tensors at those offsets. Tested against files
TensorFlow wrote (tests/fixtures/rwconv_tf). Not read: sliced (partitioned) variables and string
tensors; the entries' CRC32C is not checked (the sizes are), so a corrupted download that keeps
its size is caught only by what the weights then do.

Below the reader, what both converters (methods/rwconv/convert_tf.py, methods/gated/convert_tf.py)
share: a model's state dict from the checkpoint's variables, the weights file that records where
they came from, and the command.
"""
from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from inpaintbench.errors import InputError

_MAGIC = 0xDB4775248B80FB57  # LevelDB's table magic, the last 8 bytes of the index
#: tensorflow/core/framework/types.proto DataType -> numpy; the numeric types a model holds
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
           10: np.bool_, 19: np.float16}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, value) of a protobuf message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        wire = tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ValueError(f"protobuf wire type {wire}")
        yield tag >> 3, value


def _block(table: bytes, handle: bytes) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of the block a BlockHandle (varint offset, varint size) points at."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    data = table[offset:offset + size]
    if len(data) != size or table[offset + size:offset + size + 1] != b"\0":  # trailer: 0 = not compressed
        raise ValueError("a block is cut short or compressed")
    restarts = struct.unpack("<I", data[-4:])[0]
    end, pos, key, out = len(data) - 4 - 4 * restarts, 0, b"", []
    while pos < end:
        shared, pos = _varint(data, pos)
        own, pos = _varint(data, pos)
        length, pos = _varint(data, pos)
        key = key[:shared] + data[pos:pos + own]
        pos += own
        out.append((key, data[pos:pos + length]))
        pos += length
    return out


class TFCheckpoint:
    """`TFCheckpoint(prefix)`: `shapes` (name -> shape of every variable) and `tensor(name)` (numpy)."""

    def __init__(self, prefix: str | Path):
        self.prefix = Path(str(prefix).removesuffix(".index"))
        index = Path(f"{self.prefix}.index")
        if not index.is_file():
            # the folder a release unpacks to is what users give first
            if inside := saver_prefixes(self.prefix):
                raise InputError(f"{self.prefix}: a folder; give the checkpoint's prefix inside it, "
                                 f"{' or '.join(map(str, inside[-3:]))}")
            raise InputError(f"{self.prefix}: no TensorFlow checkpoint here (no {index.name}); give the prefix a "
                             f"Saver wrote, e.g. models/v8.ckpt-3500 for v8.ckpt-3500.index and .data-00000-of-00001")
        table = index.read_bytes()
        try:
            if len(table) < 48 or struct.unpack("<Q", table[-8:])[0] != _MAGIC:
                raise ValueError("no table footer")
            _, pos = _varint(table, len(table) - 48)  # the metaindex handle, unused
            _, pos = _varint(table, pos)
            entries = [e for _, handle in _block(table, table[pos:len(table) - 8]) for e in _block(table, handle)]
            self.entries = {key.decode(): dict(_fields(value)) for key, value in entries}
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as e:
            raise InputError(f"{index}: not a TensorFlow V2 checkpoint index, or cut short ({e})") from None
        header = self.entries.pop("", {})
        if header.get(2, 0) != 0:
            raise InputError(f"{index}: a big-endian checkpoint; only little-endian ones are read")
        self.shards = header.get(1, 1)
        self.shapes = {name: self._shape(e) for name, e in self.entries.items()}

    @staticmethod
    def _shape(entry: dict) -> tuple[int, ...]:
        dims = [dict(_fields(v)).get(1, 0) for f, v in _fields(entry.get(2, b"")) if f == 2]
        return tuple(dims)

    def tensor(self, name: str) -> np.ndarray:
        entry = self.entries.get(name)
        if entry is None:
            raise KeyError(name)
        if 7 in entry:
            raise InputError(f"{self.prefix}: {name} is a sliced (partitioned) variable, which is not read here")
        dtype = _DTYPES.get(entry.get(1))
        if dtype is None:
            raise InputError(f"{self.prefix}: {name} has TensorFlow dtype {entry.get(1)}, which is not read here")
        data = Path(f"{self.prefix}.data-{entry.get(3, 0):05d}-of-{self.shards:05d}")
        offset, size = entry.get(4, 0), entry.get(5, 0)
        with open(data, "rb") as f:
            f.seek(offset)
            raw = f.read(size)
        shape = self.shapes[name]
        if len(raw) != size or size != np.dtype(dtype).itemsize * int(np.prod(shape, dtype=np.int64)):
            raise InputError(f"{data}: {name} is cut short ({len(raw)} of {size} bytes); the file is incomplete")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).copy()


def saver_prefixes(folder: Path) -> list[Path]:
    """The checkpoints a Saver left in `folder` (each PREFIX.index), by step, the latest last: it keeps
    its last few (model.ckpt-3500, model.ckpt-10000, which sorts first by name); none if not a folder."""
    if not Path(folder).is_dir():
        return []
    step = lambda p: int(m[1]) if (m := re.search(r"-(\d+)$", p.name)) else -1
    return sorted((f.with_suffix("") for f in Path(folder).glob("*.index")), key=lambda p: (step(p), p.name))


def tf_refusal(path: Path, method: str, converts: bool, option: str) -> str | None:
    """Where `path` is a TensorFlow checkpoint (its prefix, one of its files, or the folder a release
    unpacks to), the message that refuses it as `option` (--weights, --init-from), naming the
    converter of `method` where it has one (`converts`); None for anything else. torch.load of the
    folder or the index said only IsADirectoryError or "invalid load key '\\x00'", and of the prefix
    "not found", where the authors' weights were one command away."""
    path = Path(path)
    files = re.compile(r"\.(index|meta|data-\d{5}-of-\d{5})$")
    if path.is_dir():
        prefixes = saver_prefixes(path)
    elif path.is_file() and files.search(path.name):
        prefixes = [path.with_name(files.sub("", path.name))]
    elif not path.exists() and Path(f"{path}.index").is_file():
        prefixes = [path]
    else:
        return None
    if not prefixes or not Path(f"{prefixes[-1]}.index").is_file():
        return None
    prefix = " or ".join(map(str, prefixes[-3:]))
    if not converts:
        return f"{path}: a TensorFlow checkpoint ({prefix}), which {method} cannot read or convert"
    return (f"{path}: a TensorFlow checkpoint ({prefix}); convert it first with `python -m methods.{method}.convert_tf "
            f"{prefixes[-1]} --out FILE.pt`, then give {option} FILE.pt")


def width(ck: TFCheckpoint, name: str, leading: tuple[int, ...], what: str) -> int:
    """The output channels of the first convolution `name`, whose kernel must start with
    `leading` (kernel size and input channels): what sets the converted model's cnum."""
    shape = ck.shapes.get(name)
    if shape is None or len(shape) != 4 or shape[:3] != leading:
        raise InputError(f"{ck.prefix}: no {what} here ({name} is {shape or 'missing'}, expected "
                         f"{'x'.join(map(str, leading))}xcnum); it holds {', '.join(sorted(ck.shapes)[:4])}, ...")
    return shape[3]


def state_dict_from(ck: TFCheckpoint, model, tf_name, adapt=None) -> dict:
    """`model`'s state dict from `ck`: each parameter from the variable tf_name(key) names, kernels
    HWIO -> OIHW, then adapt(key, tensor) (a channel order folded in, say); the checkpoint's other
    variables (optimiser slots, a discriminator) are left. Missing or mis-shaped ones are refused."""
    import torch

    state, missing = {}, []
    for key, ours in model.state_dict().items():
        name = tf_name(key)
        if name not in ck.shapes:
            missing.append(name)
            continue
        value = torch.from_numpy(ck.tensor(name)).float()
        value = value.permute(3, 2, 0, 1) if value.ndim == 4 else value
        value = adapt(key, value) if adapt else value
        if value.shape != ours.shape:
            raise InputError(f"{ck.prefix}: {name} is {tuple(ck.shapes[name])}, the model needs {tuple(ours.shape)} for {key}")
        state[key] = value.contiguous()
    if missing:
        raise InputError(f"{ck.prefix}: {len(missing)} of the generator's variables are missing, e.g. {', '.join(missing[:3])}")
    return state


def weights_file(ck: TFCheckpoint, fmt: str, model_config: dict, state: dict, source: str) -> dict:
    """What learned.load_weights reads, with where the weights came from: the checkpoint files'
    sha256 and its global_step."""
    from inpaintbench.networks import sha256_of

    files = [Path(f"{ck.prefix}.index"), *sorted(ck.prefix.parent.glob(ck.prefix.name + ".data-*"))]
    step = int(ck.tensor("global_step")) if ck.shapes.get("global_step") == () else None
    return {"format": fmt, "state_dict": state, "model_config": model_config, "step": step, "source": source,
            "converted_from": {f.name: sha256_of(f) for f in files}}


def convert_command(convert, method: str, doc: str, argv=None) -> None:
    """`python -m methods.<method>.convert_tf PREFIX --out F.pt`: convert(prefix) -> weights file."""
    import argparse
    import sys

    from inpaintbench.errors import one_line

    from .training.trainer import save_atomic

    p = argparse.ArgumentParser(prog=f"python -m methods.{method}.convert_tf", description=doc,
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
          f"inpaintbench run --method {method} --weights {a.out}")
