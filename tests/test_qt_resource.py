"""The Qt resource reader against bundles written here by an independent writer that follows
Qt's rcc layout (qresource.cpp), and the trainer reading photos named BUNDLE#MEMBER."""
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from methods.training import qt_resource


def write_rcc(path: Path, files: dict[str, bytes], compress=frozenset(), version: int = 3) -> None:
    """A bundle holding `files` ({'a/b/c.png': bytes}) laid out as rcc does: nodes numbered
    breadth-first from the root (0), each directory's children contiguous."""
    tree: dict = {}
    for p in files:
        *dirs, leaf = p.split("/")
        node = tree
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = p
    nodes, first_child, queue = [("", tree)], {}, [tree]  # nodes[i] = (name, dict or member path)
    while queue:
        d = queue.pop(0)
        first_child[id(d)] = len(nodes)
        for name, child in sorted(d.items()):
            nodes.append((name, child))
            if isinstance(child, dict):
                queue.append(child)
    names, blobs, table = bytearray(), bytearray(), bytearray()
    for i, (name, node) in enumerate(nodes):
        name_at = len(names)
        names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
        if isinstance(node, dict):
            table += struct.pack(">IHII", name_at, 2, len(node), first_child[id(node)])
        else:
            raw = files[node]
            stored = struct.pack(">I", len(raw)) + zlib.compress(raw) if node in compress else raw
            table += struct.pack(">IHHHI", name_at, 1 if node in compress else 0, 0, 0, len(blobs))
            blobs += struct.pack(">I", len(stored)) + stored
        table += b"\0" * 8 if version >= 2 else b""
    head = 24 if version >= 3 else 20
    offsets = (version, head + len(blobs) + len(names), head, head + len(blobs))  # version, tree, data, names
    path.write_bytes(b"qres" + struct.pack(">4I", *offsets) + (struct.pack(">I", 1) if version >= 3 else b"")
                     + bytes(blobs) + bytes(names) + bytes(table))


def _png(rgb) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.full((300, 400, 3), rgb, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_members_come_back_byte_for_byte_plain_or_compressed(tmp_path, version):
    files = {"top.txt": b"hello", "a/b/c.bin": bytes(range(256)) * 3, "a/b/d.png": _png((10, 20, 30)), "a/e.txt": b"x" * 1000}
    write_rcc(tmp_path / "r.rcc", files, compress={"a/e.txt", "a/b/c.bin"}, version=version)
    assert qt_resource.members(tmp_path / "r.rcc") == sorted(files)
    for m, data in files.items():
        assert qt_resource.read_member(tmp_path / "r.rcc", m) == data
        assert qt_resource.exists(tmp_path / "r.rcc", m)
    assert not qt_resource.exists(tmp_path / "r.rcc", "a/nope.txt")
    with pytest.raises(qt_resource.ResourceError, match="has no member a/nope.txt"):
        qt_resource.read_member(tmp_path / "r.rcc", "a/nope.txt")
    # an extracted copy: a folder named like the bundle, holding the member as a file
    (tmp_path / "x.rcc" / "a" / "b").mkdir(parents=True)
    (tmp_path / "x.rcc" / "a" / "b" / "d.png").write_bytes(files["a/b/d.png"])
    assert qt_resource.read_member(tmp_path / "x.rcc", "a/b/d.png") == files["a/b/d.png"]
    assert qt_resource.exists(tmp_path / "x.rcc", "a/b/d.png") and not qt_resource.exists(tmp_path / "x.rcc", "a/e.txt")


def test_a_file_that_is_not_a_bundle_is_named(tmp_path):
    (tmp_path / "not.rcc").write_bytes(b"PK\3\4 a zip")
    with pytest.raises(qt_resource.ResourceError, match="not a Qt resource bundle"):
        qt_resource.members(tmp_path / "not.rcc")
    assert not qt_resource.exists(tmp_path / "not.rcc", "a")


def test_the_trainer_reads_photos_inside_a_bundle_and_names_a_missing_one(tmp_path):
    from methods.training.photos import PHOTO_SETS, PhotoPool

    write_rcc(tmp_path / "p.rcc", {"img/red.png": _png((200, 0, 0)), "img/blue.png": _png((0, 0, 200))})
    pool = PhotoPool([f"{tmp_path}/p.rcc#img/red.png", f"{tmp_path}/p.rcc#img/blue.png"])
    assert [p[0, 0].tolist() for p in pool.photos] == [[200, 0, 0], [0, 0, 200]]
    with pytest.raises(FileNotFoundError, match="p.rcc#img/green.png"):
        PhotoPool([f"{tmp_path}/p.rcc#img/green.png"])
    # the same names on a machine that has the members as files in a folder named like the bundle
    (tmp_path / "copy" / "p.rcc" / "img").mkdir(parents=True)
    (tmp_path / "copy" / "p.rcc" / "img" / "red.png").write_bytes(qt_resource.read_member(tmp_path / "p.rcc", "img/red.png"))
    assert np.array_equal(PhotoPool([f"{tmp_path}/copy/p.rcc#img/red.png"]).photos[0], pool.photos[0])
    # a real file whose name holds '#' is a file, not a member
    (tmp_path / "a#b.png").write_bytes(_png((0, 90, 0)))
    assert PhotoPool([str(tmp_path / "a#b.png")]).photos[0][0, 0].tolist() == [0, 90, 0]
    gcompris = PHOTO_SETS["gcompris-qt-data"]
    assert len(gcompris) == 122 and all(".rcc#gcompris/src/activities/" in f for f in gcompris)
    PHOTO_SETS["test-bundle-set"] = [f"{tmp_path}/gone.rcc#img/red.png"]  # a set's bundle not installed
    try:
        with pytest.raises(FileNotFoundError, match="install Debian test-bundle-set, or pass --data DIR"):
            PhotoPool(PHOTO_SETS["test-bundle-set"])
    finally:
        del PHOTO_SETS["test-bundle-set"]
