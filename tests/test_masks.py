import re
import shutil

import numpy as np
import pytest
from PIL import Image

from inpaintbench.errors import InputError
from inpaintbench.masks import BUCKETS, DEFAULT_MASK_DIR, MaskSet, bucket_of, generate_hole, measure_hole, read_hole_png, verify
from inpaintbench.masks.build import NVIDIA_MEAN_RATIO, import_set, stats


def test_bucket_edges_are_left_open_right_closed_in_integers():
    total = 256 * 256
    assert bucket_of(int(0.1 * total * 10) // 10, total) is not None
    # exactly 10% (6553.6 is not an integer, so use a total where it is)
    assert bucket_of(10, 100).name == "0-10"
    assert bucket_of(11, 100).name == "10-20"
    assert bucket_of(1, 100) is None  # 1% is outside (0.01, 0.1]
    assert bucket_of(2, 100).name == "0-10"
    assert bucket_of(60, 100).name == "50-60"
    assert bucket_of(61, 100) is None


@pytest.mark.parametrize("bucket", BUCKETS, ids=lambda b: b.name)
def test_generator_hits_its_bucket_and_is_reproducible(bucket):
    for index in range(5):
        hole = generate_hole(bucket, index, seed=7)
        assert bucket.contains(int(hole.sum()), hole.size)
        assert np.array_equal(hole, generate_hole(bucket, index, seed=7))
    assert not np.array_equal(generate_hole(bucket, 0, seed=7), generate_hole(bucket, 1, seed=7))


def test_border_margin_is_respected():
    hole = generate_hole(BUCKETS[5], 3, border_margin=25)
    assert measure_hole(hole).border_distance >= 25


def test_generate_reproduces_the_frozen_set_and_refuses_a_filled_folder(tmp_path):
    """`masks generate` with the defaults is how the frozen set was made: its bucket-first masks
    (index 0, border-constrained in both) come out byte-identical. Into a folder holding a set,
    here a copy of the frozen one, it is refused (with --per-bucket 2 it rewrote 12 of its 1,200 masks
    and its manifest)."""
    from inpaintbench.masks.build import generate_set

    generate_set(tmp_path / "g", per_bucket=2)
    for b in BUCKETS:
        assert (tmp_path / "g" / b.name / "0000.png").read_bytes() == (DEFAULT_MASK_DIR / b.name / "0000.png").read_bytes()
    assert verify(tmp_path / "g") == [] and len(MaskSet(tmp_path / "g").rows) == 12
    shutil.copytree(DEFAULT_MASK_DIR, tmp_path / "frozen")  # a copy: a regression must not write into the repository's set
    manifest = (tmp_path / "frozen" / "manifest.csv").read_bytes()
    with pytest.raises(InputError, match="is not empty"):
        generate_set(tmp_path / "frozen", per_bucket=2, seed=1)
    assert (tmp_path / "frozen" / "manifest.csv").read_bytes() == manifest and verify(tmp_path / "frozen") == []
    # an empty set was written for --per-bucket 0; a tiny --size or an import at --size 0 ended in tracebacks
    # a set at a side below run's least --size (32) was written, and no run could use it; a negative
    # seed was refused as "--size 256: expected non-negative integer"; --size 100000 ended in numpy's MemoryError after 90 s
    for kw, message in ((dict(per_bucket=0), "--per-bucket must be at least 1, got 0"), (dict(size=2), "--size must be at least 32, got 2"),
                        (dict(size=31), "--size must be at least 32, got 31"), (dict(seed=-1), "--seed must be at least 0, got -1"),
                        (dict(size=100_000), "--size must be at most 8192, got 100000")):
        with pytest.raises(InputError, match=message):
            generate_set(tmp_path / "bad", **kw)
        assert not (tmp_path / "bad").exists()  # nothing to clear away before the next try
    for size, message in ((0, "at least 32, got 0"), (20, "at least 32, got 20"), (9000, "at most 8192, got 9000")):
        with pytest.raises(InputError, match=f"--size must be {message}"):
            import_set(tmp_path / "g", tmp_path / "bad_import", "hole-white", size=size)


def test_frozen_set_is_intact_and_close_to_nvidia():
    assert verify(DEFAULT_MASK_DIR) == []
    st = stats(DEFAULT_MASK_DIR)
    assert list(st.masks) == [200] * 6
    diff = (st.mean_ratio - np.array(NVIDIA_MEAN_RATIO)).abs()
    assert (diff <= 0.015).all(), diff.tolist()
    ms = MaskSet(DEFAULT_MASK_DIR)
    # pairing is deterministic and spreads masks: the first 200 images get 200 distinct masks per bucket
    assert len({ms.pick(b, i).file for b in BUCKETS for i in range(200)}) == 1200
    assert ms.pick("10-20", 3) == MaskSet(DEFAULT_MASK_DIR).pick("10-20", 3)


def test_verify_catches_a_tampered_mask(tmp_path):
    dst = tmp_path / "set"
    shutil.copytree(DEFAULT_MASK_DIR, dst)
    victim = dst / "20-30" / "0005.png"
    arr = np.asarray(Image.open(victim)).copy()
    arr[128, 128] = 255 - arr[128, 128]
    Image.fromarray(arr).save(victim)
    (dst / "stray.png").write_bytes(victim.read_bytes())
    problems = verify(dst)
    assert any("20-30/0005.png: sha256" in p for p in problems)
    assert any("stray.png" in p for p in problems)
    # a run never scores with it: the set's id hashes only the manifest, each record names the mask's sha256
    ms = MaskSet(dst)
    entry = next(e for e in ms.by_bucket["20-30"] if e.file == "20-30/0005.png")
    with pytest.raises(InputError, match="0005.png: sha256 differs from manifest.csv, so this is not the mask set set@"):
        ms.load(entry, 256)
    other = next(e for e in ms.by_bucket["20-30"] if e.file == "20-30/0006.png")
    assert ms.load(other, 256).shape == (256, 256)
    # a file that is no image: said so, not as PIL names the bytes it was given ("<_io.BytesIO object at 0x...>")
    (dst / "20-30" / "0007.png").write_bytes(b"x\n")
    said = [p for p in verify(dst) if "0007.png: not" in p]
    assert said == [f"{dst / '20-30' / '0007.png'}: not a readable mask image (UnidentifiedImageError: not an image "
                    f"format PIL knows)"], verify(dst)


def test_import_resizes_with_nearest_and_measures_after(tmp_path):
    src = tmp_path / "nvidia"
    src.mkdir()
    hole = np.ones((512, 512), np.uint8) * 255  # hole-black: 0 = hole
    hole[100:300, 50:250] = 0  # 200x200 hole at 512 -> 100x100 at 256
    Image.fromarray(hole).save(src / "00000.png")
    (src / "._00000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # a Mac's copy: not a mask, skipped
    import_set(src, tmp_path / "out", "hole-black")
    (tmp_path / "out" / "._00000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    ms = MaskSet(tmp_path / "out")
    (row,) = ms.rows
    assert int(row["hole_pixels"]) == 100 * 100
    assert row["bucket"] == "10-20"  # 10000 / 65536 = 15.3%
    assert verify(tmp_path / "out") == []
    with pytest.raises(InputError, match="polarity"):
        import_set(src, tmp_path / "x", "white")
    # the other polarity reads the hole as the 85% around it: the import had said only "wrote DIR"
    notes = []
    import_set(src, tmp_path / "inverted", "hole-white", log=notes.append)
    assert notes == ["1 mask by bucket: 0-10% 0, 10-20% 0, 20-30% 0, 30-40% 0, 40-50% 0, 50-60% 0; outside every "
                     "bucket (hole at most 1% or over 60% of the image, never paired): 1",
                     f"note: the hole covers over 60% of the image in 1 of 1 masks, as masks of the other colour would "
                     f"read: if the holes in {src} are black, import again with --polarity hole-black"], notes
    # a run asks every bucket by default: the refusal names the buckets the set has
    with pytest.raises(InputError, match="no masks in bucket 20-30%; it has masks in 10-20: choose those with --buckets"):
        ms.pick("20-30", 0)


def test_import_takes_softened_masks_and_refuses_photos(tmp_path):
    """A frozen mask saved as JPEG at 1024 px imports back to itself within its softened edge;
    a photo among the masks stops the import with its name instead of becoming a noise mask."""
    from skimage import data

    src = tmp_path / "src"
    src.mkdir()
    frozen = read_hole_png(DEFAULT_MASK_DIR / "30-40" / "0003.png", 256)
    Image.fromarray(frozen.astype(np.uint8) * 255).resize((1024, 1024), Image.BILINEAR).save(src / "soft.jpg", quality=60)
    import_set(src, tmp_path / "out", "hole-white")
    back = read_hole_png(tmp_path / "out" / "soft.png", 256)
    assert (back != frozen).mean() < 0.01
    Image.fromarray(data.camera()).save(src / "zz_photo.png")
    with pytest.raises(InputError, match=r"zz_photo.png: \d+% of its pixels are mid-grey"):
        import_set(src, tmp_path / "out2", "hole-white")
    assert not (tmp_path / "out2").exists()  # checked before any is written: nothing half-imported


def test_import_refuses_masks_whose_shape_is_in_their_alpha_channel_only(tmp_path):
    """Black pixels with the hole drawn as opacity came in as no hole at all (each mask "outside every
    bucket"); masks with an alpha channel whose colour holds the shape still import as before."""
    src = tmp_path / "src"
    src.mkdir()
    rgba = np.zeros((512, 512, 4), np.uint8)
    rgba[100:260, 50:300] = 255  # white and opaque in the hole, black and transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(src / "a.png")
    import_set(src, tmp_path / "out", "hole-white")
    assert read_hole_png(tmp_path / "out" / "a.png", 256).mean() == pytest.approx(160 * 250 / 512 ** 2)
    rgba[..., :3] = 0  # the hole in the alpha alone
    Image.fromarray(rgba, "RGBA").save(src / "b.png")
    with pytest.raises(InputError, match=r"b.png: its shape is in its alpha channel only"):
        import_set(src, tmp_path / "out2", "hole-white")
    assert not (tmp_path / "out2").exists()


def test_import_reads_float_masks_on_their_scale(tmp_path):
    """A mask saved from numpy as a float TIFF (1.0 the hole) was cut to 0 and 1 by PIL's
    conversion to grey: every mask came in as no hole, 'outside every bucket'."""
    src = tmp_path / "src"
    src.mkdir()
    hole = np.zeros((256, 256), np.float32)
    hole[40:140, 30:200] = 1.0
    Image.fromarray(hole, "F").save(src / "unit.tif")
    Image.fromarray(hole * 255, "F").save(src / "byte.tif")
    import_set(src, tmp_path / "out", "hole-white", log=lambda s: None)
    for name in ("unit.png", "byte.png"):
        assert np.array_equal(read_hole_png(tmp_path / "out" / name, 256), hole.astype(bool)), name


def test_import_refuses_to_write_over_its_sources_or_into_another_set(tmp_path):
    """Imported files keep their source names as PNG: into the source folder they replaced the
    source masks (hole-black ones with their binarised hole-white selves); into a folder holding a
    set they mixed with it."""
    src = tmp_path / "src"
    src.mkdir()
    hole = np.full((256, 256), 255, np.uint8)
    hole[:40] = 0
    Image.fromarray(hole).save(src / "a.png")
    before = (src / "a.png").read_bytes()
    (tmp_path / "a_set").mkdir()
    (tmp_path / "a_set" / "manifest.csv").write_text("file,sha256\n")  # a set's folder (not the frozen one: a regression would write there)
    for out, message in ((src, "inside the source folder"), (src / "imported", "inside the source folder"),
                         (tmp_path / "a_set", "is not empty")):
        with pytest.raises(InputError, match=message):
            import_set(src, out, "hole-black")
    assert (src / "a.png").read_bytes() == before and sorted(p.name for p in src.iterdir()) == ["a.png"]
    (tmp_path / "empty").mkdir()
    import_set(src, tmp_path / "empty", "hole-black")  # an empty folder is fine
    assert int(MaskSet(tmp_path / "empty").rows[0]["hole_pixels"]) == 40 * 256


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError(28, "No space left on device")], ids=["ctrl-c", "disk-full"])
def test_a_set_stopped_while_written_leaves_its_folder_as_it_was(tmp_path, monkeypatch, stop):
    """Stopped between its masks and its manifest, `masks generate` (and `import`, which writes the
    same way) had left the masks in --out: the same command then refused the folder as not empty,
    and the masks lay there without a manifest. The set is now renamed into place once written."""
    import inpaintbench.masks.build as build

    def stopped(root, rows):
        raise stop

    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    for out in (tmp_path / "new", tmp_path / "empty", tmp_path / "link"):
        with monkeypatch.context() as m:
            m.setattr(build, "write_manifest", stopped)
            with pytest.raises(type(stop) if isinstance(stop, BaseException) else stop):
                build.generate_set(out, per_bucket=1, size=64)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "link"] + ["new"] * (out.name != "new")  # no hidden partial set
        assert not any((tmp_path / "empty").iterdir())
        assert build.generate_set(out, per_bucket=1, size=64) == out / "manifest.csv"
        assert verify(out) == [] and len(MaskSet(out).rows) == 6
        if out == tmp_path / "empty":
            shutil.rmtree(out)
            out.mkdir()
    assert (tmp_path / "link").is_symlink() and verify(tmp_path / "empty") == []  # written where the link points


def test_a_killed_generate_leaves_no_hidden_set_behind_once_run_again(tmp_path):
    """SIGKILLed while writing (no handler runs), `masks generate` left its hidden
    `.NAME.partial-...` folder, a whole set's size, forever. The next set written beside it clears
    those of dead processes of this machine; a live writer's and another machine's stay."""
    import signal
    import subprocess
    import sys
    import time

    from inpaintbench.masks.build import generate_set

    def writer(then: str) -> subprocess.Popen:
        code = (f"import os, time, inpaintbench.masks.build as b; b.write_manifest = lambda *a: {then}; "
                f"b.generate_set({str(tmp_path / 'set')!r}, per_bucket=1, size=64)")
        return subprocess.Popen([sys.executable, "-c", code])

    def partials() -> set:
        return set(tmp_path.glob(".set.partial-*"))

    live = writer("time.sleep(120)")
    try:
        deadline = time.monotonic() + 60
        while not partials() and time.monotonic() < deadline:
            time.sleep(0.05)
        (running,) = partials()
        assert writer("os.kill(os.getpid(), 9)").wait(60) == -signal.SIGKILL
        (dead,) = partials() - {running}
        assert len(list(dead.rglob("*.png"))) == 6  # its masks written, the manifest not
        elsewhere = tmp_path / dead.name.replace(".partial-", ".partial-otherhost-", 1)
        shutil.copytree(dead, elsewhere)
        assert generate_set(tmp_path / "set", per_bucket=1, size=64) == tmp_path / "set" / "manifest.csv"
        assert partials() == {running, elsewhere}
    finally:
        live.kill()
        live.wait()


@pytest.mark.parametrize("refused", ["partial-folder", "rmdir"])
def test_an_empty_folder_that_cannot_be_replaced_gets_the_set_in_place(tmp_path, monkeypatch, refused):
    """Where the hidden folder cannot be made (a folder made for the user in a parent they may not
    write to) or --out cannot be removed (an empty mount point), the set is written into --out."""
    import errno
    import pathlib

    from inpaintbench.masks.build import generate_set

    out = tmp_path / "given"
    out.mkdir()
    mkdir, rmdir = pathlib.Path.mkdir, pathlib.Path.rmdir

    def no_partial(self, *a, **k):
        if ".partial-" in self.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return mkdir(self, *a, **k)

    def busy(self):
        if self == out:
            raise OSError(errno.EBUSY, "Device or resource busy", str(self))
        return rmdir(self)

    if refused == "rmdir":
        monkeypatch.setattr(pathlib.Path, "rmdir", busy)
    else:
        monkeypatch.setattr(pathlib.Path, "mkdir", no_partial)
    assert generate_set(out, per_bucket=1, size=64) == out / "manifest.csv"
    assert verify(out) == [] and len(MaskSet(out).rows) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given"]


def test_a_set_is_as_readable_as_any_folder_the_user_makes(tmp_path):
    """Written in a hidden folder and renamed: it must not take a temporary folder's mode 0700,
    which would hide a shared set from the others of its group."""
    import os

    from inpaintbench.masks.build import generate_set

    old = os.umask(0o022)
    try:
        generate_set(tmp_path / "shared", per_bucket=1, size=64)
        (tmp_path / "plain").mkdir()
    finally:
        os.umask(old)
    assert (tmp_path / "shared").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_import_refuses_two_sources_of_one_name_and_notes_stretched_and_repeated_masks(tmp_path):
    """a.jpg beside a.png were both written as a.png, the manifest listing a.png twice and `masks
    verify` failing on the set just made; a non-square mask was stretched and a repeated one kept
    without a word."""
    src = tmp_path / "src"
    src.mkdir()
    hole = np.zeros((512, 512), np.uint8)
    hole[100:200, 100:300] = 255
    Image.fromarray(hole).save(src / "a.png")
    Image.fromarray(hole).save(src / "a.jpg", quality=95)
    Image.fromarray(hole[:, :400]).save(src / "wide.png")
    Image.fromarray(hole).save(src / "z.png")
    with pytest.raises(InputError, match="nowhere: no such folder"):  # it said "no mask images found"
        import_set(tmp_path / "nowhere", tmp_path / "out", "hole-white")
    with pytest.raises(InputError, match="a.jpg and a.png would both be imported as a.png; rename or move one"):
        import_set(src, tmp_path / "out", "hole-white")
    assert not (tmp_path / "out").exists()
    (src / "a.jpg").rename(src / "b.jpg")
    notes = []
    import_set(src, tmp_path / "out", "hole-white", log=notes.append)
    assert verify(tmp_path / "out") == []
    assert notes == ["4 masks by bucket: 0-10% 4, 10-20% 0, 20-30% 0, 30-40% 0, 40-50% 0, 50-60% 0",
                     "note: not square, so stretched to 256x256 (their strokes change shape): wide.png (400x512)",
                     "note: identical after the import (each still counts in its bucket): a.png = b.png = z.png"]


def test_bad_masks_are_refused(tmp_path):
    grey = np.zeros((256, 256), np.uint8)
    grey[0, 0] = 128
    Image.fromarray(grey).save(tmp_path / "grey.png")
    with pytest.raises(InputError, match="only 0 and 255"):
        read_hole_png(tmp_path / "grey.png", 256)
    Image.fromarray(np.zeros((200, 256), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(InputError, match="expected 256x256"):
        read_hole_png(tmp_path / "small.png", 256)


def test_a_mask_set_of_another_size_is_refused_before_any_work(tmp_path, monkeypatch):
    """A set generated or imported at 512 px stopped a run at its first pair ("mask is 512x512,
    expected 256x256"), after the method had loaded and its bar was drawn, and left a run folder:
    run and export-inputs now refuse it first, saying how to make a copy at the evaluation size,
    and write nothing. That copy then runs."""
    from inpaintbench import registry
    from inpaintbench.export import export_inputs
    from inpaintbench.masks.build import generate_set
    from inpaintbench.runner import RunConfig, run

    generate_set(tmp_path / "big", per_bucket=1, size=512)
    made = []
    monkeypatch.setattr(registry, "create", lambda *a, **k: made.append(a) or pytest.fail("method loaded"))
    cfg = RunConfig(method="telea", masks=str(tmp_path / "big"), buckets=["10-20"], limit=1, deep_metrics=False)
    expect = (r"big: its masks are 512x512 \(10-20/0000.png\), the evaluation is at 256x256; `inpaintbench masks import "
              r".*big --polarity hole-white --size 256 --out NEW_DIR`")
    with pytest.raises(InputError, match=expect):
        run(cfg, tmp_path / "r", log=lambda s: None)
    with pytest.raises(InputError, match=expect):
        export_inputs(tmp_path / "x", masks=str(tmp_path / "big"), buckets=["10-20"], limit=1)
    assert not (tmp_path / "r").exists() and not (tmp_path / "x").exists() and not made
    monkeypatch.undo()
    import_set(tmp_path / "big", tmp_path / "small", "hole-white", size=256)
    run(RunConfig(method="telea", masks=str(tmp_path / "small"), buckets=["10-20"], limit=1, deep_metrics=False),
        tmp_path / "r", log=lambda s: None)
    assert (tmp_path / "r" / "records.jsonl").read_text().count("\n") == 1


def test_a_folder_that_is_no_mask_set_is_refused_alike_by_every_command(tmp_path):
    """`masks stats` said only "no manifest.csv", where verify and run say what a mask set is; and all
    of them said "no manifest.csv" for a folder that does not exist (a mistyped --masks)."""
    from inpaintbench.masks.build import stats

    (tmp_path / "photos").mkdir()
    (tmp_path / "a.png").write_bytes(b"")
    # a file was "no such folder" too, and the set's own manifest.csv given for the set not pointed to it
    for folder, what in ((tmp_path / "photos", "no manifest.csv"), (tmp_path / "typo", "no such folder"),
                         (tmp_path / "a.png", "a file, not a folder")):
        message = f"{folder}: {what}; a mask set is a folder made by `inpaintbench masks generate` or `masks import`"
        for call in (stats, verify, MaskSet):
            with pytest.raises(InputError) as e:
                call(folder)
            assert str(e.value) == message, (call, str(e.value))
    manifest = DEFAULT_MASK_DIR / "manifest.csv"
    for call in (stats, verify, MaskSet):
        with pytest.raises(InputError, match=f"^{re.escape(str(manifest))}: a mask set's manifest; give the set's folder, "
                                             f"{re.escape(str(DEFAULT_MASK_DIR))}$"):
            call(manifest)
    # a bucket's folder of a set, and a folder of one's own masks given as they unpack, say what to give
    bucket = DEFAULT_MASK_DIR / "10-20"
    own = tmp_path / "testing_mask_dataset"
    own.mkdir()
    for name in ("00000.png", "00001.png", "00002.png", ".DS_Store"):
        (own / name).write_bytes(b"")
    for folder, message in ((bucket, (f"{bucket}: a folder inside the mask set {DEFAULT_MASK_DIR}; give the set's folder, "
                                      f"{DEFAULT_MASK_DIR} (with --buckets 10-20 for that bucket alone)")),
                            (own, (f"{own}: no manifest.csv, but 3 images (00000.png, 00001.png, ...): masks of your own "
                                   f"become a mask set with `inpaintbench masks import {own} --polarity "
                                   f"hole-white|hole-black --out DIR`; give that DIR"))):
        for call in (stats, verify, MaskSet):
            with pytest.raises(InputError) as e:
                call(folder)
            assert str(e.value) == message, (call, str(e.value))


def test_masks_stats_prints_four_significant_digits():
    """A median of two rounded stroke widths was printed as 197.36599999999999, and the frozen
    set's as 31.0155: the table's numbers are read by eye."""
    import re

    from typer.testing import CliRunner

    from inpaintbench.cli import app

    r = CliRunner().invoke(app, ["masks", "stats"])
    numbers = re.findall(r"\d+\.\d+", r.output)
    assert r.exit_code == 0 and len(numbers) >= 24, r.output
    assert all(len(n.replace(".", "").lstrip("0")) <= 4 for n in numbers), numbers
