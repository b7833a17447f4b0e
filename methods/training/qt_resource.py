"""Files inside a compiled Qt resource bundle (`.rcc`), read without Qt.

GCompris (Debian `gcompris-qt-data`) ships its activities' photographs inside such bundles, and
the trainer uses some of them as training photos, named `BUNDLE#MEMBER` (PHOTO_SETS in
methods/training/trainer.py). Written here because no maintained Python package reads `.rcc` files short
of PySide/PyQt themselves (hundreds of MB for one binary lookup table).

The layout, as Qt's own reader (qresource.cpp) parses it, all integers big-endian:
header  "qres", version (3 here; 1-3 read), tree offset, data offset, names offset, [v3: flags]
tree    one entry per node, 14 bytes (+8 of modification time from version 2): name offset u32,
        flags u16 (1 zlib, 2 directory, 4 zstd), then for a directory child count u32 and first
        child index u32, for a file territory u16, language u16 and data offset u32
names   length u16 (UTF-16 code units), hash u32, the name in UTF-16BE
data    size u32, then the bytes; zlib members are qCompress output (u32 plain size, zlib stream)

A folder in place of the bundle, holding MEMBER as a file (what `.device/pack.sh` makes for a GPU
machine that lacks the package), reads the same.
"""
from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path

COMPRESSED, DIRECTORY, ZSTD = 1, 2, 4


class ResourceError(ValueError):
    pass


@cache
def _index(bundle: Path) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """The bundle's bytes and {member path: (flags, data offset)}."""
    b = bundle.read_bytes()
    if b[:4] != b"qres":
        raise ResourceError(f"{bundle}: not a Qt resource bundle (no 'qres' header)")
    version, tree, data, names = struct.unpack(">4I", b[4:20])
    if version not in (1, 2, 3):
        raise ResourceError(f"{bundle}: Qt resource format version {version}; versions 1-3 are read")
    entry = 14 if version == 1 else 22

    def name(offset: int) -> str:
        p = names + offset
        (n,) = struct.unpack(">H", b[p : p + 2])
        return b[p + 6 : p + 6 + 2 * n].decode("utf-16-be")

    members: dict[str, tuple[int, int]] = {}
    todo = [(0, "")]  # the root is node 0, unnamed
    while todo:
        node, prefix = todo.pop()
        p = tree + node * entry
        name_offset, flags = struct.unpack(">IH", b[p : p + 6])
        path = f"{prefix}/{name(name_offset)}" if node else ""
        if flags & DIRECTORY:
            count, first = struct.unpack(">II", b[p + 6 : p + 14])
            todo += [(first + i, path) for i in range(count)]
        else:
            (offset,) = struct.unpack(">I", b[p + 10 : p + 14])
            members[path.lstrip("/")] = (flags, data + offset)
    return b, members


def members(bundle: str | Path) -> list[str]:
    """Every file's path inside the bundle, without Qt's leading ':/'."""
    return sorted(_index(Path(bundle))[1])


def read_member(bundle: str | Path, member: str) -> bytes:
    bundle = Path(bundle)
    if bundle.is_dir():
        return (bundle / member).read_bytes()
    b, index = _index(bundle)
    if member not in index:
        raise ResourceError(f"{bundle} has no member {member}")
    flags, p = index[member]
    (size,) = struct.unpack(">I", b[p : p + 4])
    blob = b[p + 4 : p + 4 + size]
    if flags & COMPRESSED:
        return zlib.decompress(blob[4:])
    if flags & ZSTD:
        raise ResourceError(f"{bundle}: {member} is zstd-compressed, which this reader does not decode")
    return blob


def exists(bundle: str | Path, member: str) -> bool:
    bundle = Path(bundle)
    if bundle.is_dir():
        return (bundle / member).is_file()
    try:
        return bundle.is_file() and member in _index(bundle)[1]
    except ResourceError:
        return False
